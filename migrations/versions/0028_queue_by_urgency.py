"""cases: the operator queue by urgency (due date, then waiting longest), not newest first

The queue's partial indexes follow its new order: ``(due_date, received_at, id)`` and the
same behind ``category`` for the category filter, over unrouted cases only.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

QUEUE = "status = 'received'"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_queue", postgresql_where=sa.text(QUEUE),
                            sqlite_where=sa.text(QUEUE))
        batch_op.drop_index("ix_cases_queue_category", postgresql_where=sa.text(QUEUE),
                            sqlite_where=sa.text(QUEUE))
        batch_op.create_index("ix_cases_queue", ["due_date", "received_at", "id"],
                              unique=False, postgresql_where=sa.text(QUEUE),
                              sqlite_where=sa.text(QUEUE))
        batch_op.create_index("ix_cases_queue_category",
                              ["category", "due_date", "received_at", "id"], unique=False,
                              postgresql_where=sa.text(QUEUE), sqlite_where=sa.text(QUEUE))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_queue_category", postgresql_where=sa.text(QUEUE),
                            sqlite_where=sa.text(QUEUE))
        batch_op.drop_index("ix_cases_queue", postgresql_where=sa.text(QUEUE),
                            sqlite_where=sa.text(QUEUE))
        batch_op.create_index("ix_cases_queue", ["received_at", "id"], unique=False,
                              postgresql_where=sa.text(QUEUE), sqlite_where=sa.text(QUEUE))
        batch_op.create_index("ix_cases_queue_category", ["category", "received_at", "id"],
                              unique=False, postgresql_where=sa.text(QUEUE),
                              sqlite_where=sa.text(QUEUE))
