"""reports: indexes for figures computed on the request (a custom period at 1 M cases)

- ``ix_cases_now``: today's state (当前逾期 / 当前挂账) per area from a small partial index;
  without it every custom period read the whole cases table (hanging cases need no due date).
- ``ix_cases_report_join`` (PostgreSQL: with area, mode and ledger state included): what
  assignments' and ratings' figures read of their case, from the index alone.
- ``ix_assignments_case_department`` replaces ``ix_assignments_case_id``: the unit's earlier
  assignment on the case (受理, 重办) is one index probe.
- ``ix_ratings_case_round`` replaces ``ix_ratings_case_id``: 回访 (rated after the first
  answer) and a round's rating are one index probe.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

NOW = ("ledger_state = 'hanging' OR (ledger_state = 'open' "
       "AND status IN ('handling', 'escalated'))")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_now", ["category", "ledger_state", "status", "due_date"],
                              unique=False, postgresql_where=sa.text(NOW),
                              sqlite_where=sa.text(NOW))
        batch_op.create_index("ix_cases_report_join", ["id"], unique=False,
                              postgresql_include=["category", "mode", "ledger_state"])
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_case_department",
                              ["case_id", "department_id", "id"], unique=False,
                              postgresql_include=["round"])
        batch_op.drop_index("ix_assignments_case_id")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index("ix_ratings_case_round", ["case_id", "round", "rated_at"],
                              unique=False)
        batch_op.drop_index("ix_ratings_case_id")


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index("ix_ratings_case_id", ["case_id"], unique=False)
        batch_op.drop_index("ix_ratings_case_round")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_case_id", ["case_id"], unique=False)
        batch_op.drop_index("ix_assignments_case_department")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_report_join")
        batch_op.drop_index("ix_cases_now", postgresql_where=sa.text(NOW),
                            sqlite_where=sa.text(NOW))
