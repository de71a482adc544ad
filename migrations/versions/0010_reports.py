"""reports: first missed due dates, bulletins, typical cases, report indexes

``first_missed_due`` on cases and assignments keeps the first due date missed, so
按时办结率 never forgets lateness after an extension or a late answer; existing rows are
backfilled from what the tables still show (answered late, or past due and unanswered).
Bulletins (one per month, the issued file kept) and typical cases marked by supervisors.
Notifications may concern no case (a bulletin draft).

Revision ID: 0010
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_missed_due", sa.Date(), nullable=True))
        batch_op.create_index("ix_cases_first_missed_due", ["first_missed_due"], unique=False)
        batch_op.create_index("ix_cases_hanging", ["id"], unique=False,
                              postgresql_where=sa.text("ledger_state = 'hanging'"),
                              sqlite_where=sa.text("ledger_state = 'hanging'"))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_missed_due", sa.Date(), nullable=True))
        batch_op.create_index("ix_assignments_first_missed_due", ["first_missed_due"],
                              unique=False)
        batch_op.create_index("ix_assignments_due_date", ["due_date"], unique=False)
        batch_op.create_index("ix_assignments_assigned_at", ["assigned_at"], unique=False)
        batch_op.create_index("ix_assignments_replied_at", ["replied_at"], unique=False)
        batch_op.create_index("ix_assignments_returned_at", ["returned_at"], unique=False,
                              postgresql_where=sa.text("returned_at IS NOT NULL"),
                              sqlite_where=sa.text("returned_at IS NOT NULL"))
        batch_op.create_index("ix_assignments_extension_decided_at", ["extension_decided_at"],
                              unique=False,
                              postgresql_where=sa.text("extension_decided_at IS NOT NULL"),
                              sqlite_where=sa.text("extension_decided_at IS NOT NULL"))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=True)

    # Backfill: what the rows still show. Departments' cases answered after their due date,
    # or still with departments past it; assignments answered late or flagged overdue.
    op.execute(
        "UPDATE cases SET first_missed_due = due_date WHERE due_date IS NOT NULL "
        "AND (mode IS NULL OR mode <> 'instant') AND ((answered_on IS NOT NULL "
        "AND answered_on > due_date) OR (status = 'handling' AND due_date < CURRENT_DATE))"
    )
    op.execute(
        "UPDATE assignments SET first_missed_due = due_date WHERE due_date IS NOT NULL "
        "AND (overdue = true OR (state IN ('pending', 'accepted') AND due_date < CURRENT_DATE))"
    )

    op.create_table(
        "report_bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("editorial", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(length=100), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_bulletins")),
        sa.UniqueConstraint("month", name=op.f("uq_report_bulletins_month")),
    )
    op.create_table(
        "report_typical_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_by", sa.String(length=100), nullable=False),
        sa.Column("marked_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_report_typical_cases_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_typical_cases")),
        sa.UniqueConstraint("case_id", name=op.f("uq_report_typical_cases_case_id")),
    )


def downgrade() -> None:
    op.drop_table("report_typical_cases")
    op.drop_table("report_bulletins")
    op.execute("DELETE FROM notifications WHERE case_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        for name in ("ix_assignments_extension_decided_at", "ix_assignments_returned_at",
                     "ix_assignments_replied_at", "ix_assignments_assigned_at",
                     "ix_assignments_due_date", "ix_assignments_first_missed_due"):
            batch_op.drop_index(name)
        batch_op.drop_column("first_missed_due")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_hanging")
        batch_op.drop_index("ix_cases_first_missed_due")
        batch_op.drop_column("first_missed_due")
