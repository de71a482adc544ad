"""field suggestions: enterprise, contact, phones, USCC, area and town read from a case's text

One row per suggested value with its evidence; the operator's decision is kept with it
(extraction.models).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("final_value", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_field_suggestions_case_id_cases")),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name=op.f("fk_field_suggestions_recording_id_recordings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_suggestions")),
    )
    op.create_index("ix_field_suggestions_case", "field_suggestions", ["case_id", "field"])
    op.create_index("ix_field_suggestions_decided_at", "field_suggestions", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_field_suggestions_decided_at", table_name="field_suggestions")
    op.drop_index("ix_field_suggestions_case", table_name="field_suggestions")
    op.drop_table("field_suggestions")
