"""transcription: transcripts, the Twilio sync mark, recording job id and retry time

One transcript per recording (words with timings as JSON); recordings remember the RQ job
responsible for them and when a failed one may be retried automatically.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 23:17:01.942439
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcription_sync_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_transcription_sync_marks")),
    )
    op.create_table(
        "transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("rtf", sa.Float(), nullable=False),
        sa.Column("is_empty", sa.Boolean(), nullable=False),
        sa.Column("source_format", sa.String(length=32), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_transcripts_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
        sa.UniqueConstraint("recording_id", name=op.f("uq_transcripts_recording_id")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcription_job_id", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("transcription_retry_at", core.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("transcription_retry_at")
        batch_op.drop_column("transcription_job_id")

    op.drop_table("transcripts")
    op.drop_table("transcription_sync_marks")
