"""并单: a repeat request merged into an earlier case (cases.merged_into_id, merged_at).

Revision ID: 0015
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merged_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_cases_merged_into_id", ["merged_into_id"], unique=False)
        batch_op.create_foreign_key("fk_cases_merged_into_id_cases", "cases",
                                    ["merged_into_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cases_merged_into_id_cases", type_="foreignkey")
        batch_op.drop_index("ix_cases_merged_into_id")
        batch_op.drop_column("merged_at")
        batch_op.drop_column("merged_into_id")
