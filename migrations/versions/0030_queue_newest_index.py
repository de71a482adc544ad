"""cases: the operator queue newest first, for its word search

Migration 0028 ordered the queue's partial indexes by due date; a word search of the queue
lists its matches newest first and walks the queue's newest cases (casesearch step 1). Without
an index in that order PostgreSQL sorted every waiting case on each search (tens of
milliseconds with 50,000 waiting, in ``benchmarks/case_search.py``).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

QUEUE = "status = 'received'"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_queue_newest", ["received_at", "id"], unique=False,
                              postgresql_where=sa.text(QUEUE), sqlite_where=sa.text(QUEUE))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_queue_newest", postgresql_where=sa.text(QUEUE),
                            sqlite_where=sa.text(QUEUE))
