"""timeliness: the first answer of a case; the figures a bulletin was issued with

``first_answered_at`` / ``first_answered_on`` keep a case's first answer: a rework clears
``answered_*`` but the case stays answered in the month of its first answer
(cases.timeliness). Existing rows take the first answering event of the audit trail, else
the current answer; the local date is Asia/Shanghai's (the default ``HOTLINE_TZ``).
``report_bulletins.figures``: the centre's figures as issued, for marking revisions.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

FIRST_ANSWER = (
    "COALESCE((SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id AND e.action IN "
    "('answered', 'answered_instantly', 'resolved_self_service')), answered_at)"
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_answered_at", core.db.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("first_answered_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_cases_first_answered_on", ["first_answered_on"],
                              unique=False)
    with op.batch_alter_table("report_bulletins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures", sa.JSON(), nullable=True))
    op.execute(f"UPDATE cases SET first_answered_at = {FIRST_ANSWER}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE cases SET first_answered_on = "
                   "(first_answered_at AT TIME ZONE 'Asia/Shanghai')::date "
                   "WHERE first_answered_at IS NOT NULL")
    else:
        op.execute("UPDATE cases SET first_answered_on = date(first_answered_at, '+8 hours') "
                   "WHERE first_answered_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("report_bulletins", schema=None) as batch_op:
        batch_op.drop_column("figures")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_first_answered_on")
        batch_op.drop_column("first_answered_on")
        batch_op.drop_column("first_answered_at")
