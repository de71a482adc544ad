"""voicemail reservations: the case number read back, filed later (outbox)

The ``<Record>`` action reserves the case number the caller hears in one short transaction;
a job files the case with exactly that number. Unfiled rows are found through a partial
index, and a partial unique index gives every newly allocated number a single owner.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 01:43:54.529137
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voicemail_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("subcategory", sa.String(length=16), nullable=True),
        sa.Column("case_number", sa.String(length=16), nullable=False),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("reserved_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("filed_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_voicemail_reservations_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_reservations")),
        sa.UniqueConstraint(
            "recording_sid", name=op.f("uq_voicemail_reservations_recording_sid")
        ),
    )
    with op.batch_alter_table("voicemail_reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voicemail_reservations_call_sid"), ["call_sid"], unique=False
        )
        batch_op.create_index(
            "ix_voicemail_reservations_owner",
            ["case_number"],
            unique=True,
            postgresql_where=sa.text("linked = false"),
            sqlite_where=sa.text("linked = 0"),
        )
        batch_op.create_index(
            "ix_voicemail_reservations_unfiled",
            ["id"],
            unique=False,
            postgresql_where=sa.text("filed_at IS NULL"),
            sqlite_where=sa.text("filed_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemail_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_voicemail_reservations_unfiled")
        batch_op.drop_index("ix_voicemail_reservations_owner")
        batch_op.drop_index(batch_op.f("ix_voicemail_reservations_call_sid"))

    op.drop_table("voicemail_reservations")
