"""live transcripts: what Vosk heard on each track of an operator call while it went on

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("stream_sid", sa.String(length=64), nullable=False),
        sa.Column("track", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("started_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"],
                                name=op.f("fk_live_transcripts_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_transcripts")),
        sa.UniqueConstraint("stream_sid", "track", name=op.f("uq_live_transcripts_stream_sid")),
    )
    op.create_index(op.f("ix_live_transcripts_call_sid"), "live_transcripts", ["call_sid"])
    op.create_index(op.f("ix_live_transcripts_call_id"), "live_transcripts", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_live_transcripts_call_id"), table_name="live_transcripts")
    op.drop_index(op.f("ix_live_transcripts_call_sid"), table_name="live_transcripts")
    op.drop_table("live_transcripts")
