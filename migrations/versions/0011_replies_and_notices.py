"""Reply kinds (答复 / 解释说明 / 进度反馈), SMS delivery status, 回访未果, the leading
group's decision clock (研判上报) and its once-only reminders.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False,
                                      server_default="answer"))
        batch_op.add_column(sa.Column("policy_basis", sa.Text(), nullable=True))
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivery_error_code", sa.String(length=16),
                                      nullable=True))
        batch_op.add_column(sa.Column("delivery_updated_at", UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index("ix_sms_messages_message_sid", ["message_sid"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unrated_reason", sa.String(length=200), nullable=True))
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=100), nullable=True))
    op.create_table(
        "escalation_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("escalation_id", "level"),
    )
    op.create_index("ix_escalation_reminders_case_id", "escalation_reminders", ["case_id"])
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreachable_reason", sa.String(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column("unreachable_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("unreachable_at", UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")
        batch_op.drop_column("unreachable_by")
        batch_op.drop_column("unreachable_reason")
    op.drop_index("ix_escalation_reminders_case_id", table_name="escalation_reminders")
    op.drop_table("escalation_reminders")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decision_due")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("unrated_reason")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_message_sid")
        batch_op.drop_column("delivery_updated_at")
        batch_op.drop_column("delivery_error_code")
        batch_op.drop_column("delivery_status")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_column("policy_basis")
        batch_op.drop_column("kind")
