"""console sign-in: progressive delays per account and address instead of lock-outs

``login_counters`` now counts an account at one address (``pair``) and an address (``ip``);
``blocked_until`` is when the next try may come, ``username`` lets an administrator clear an
account's counts. Old per-username rows mean nothing under the new rule and are dropped.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM login_counters")
    with op.batch_alter_table("login_counters", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=64),
                              type_=sa.String(length=128), existing_nullable=False)
        batch_op.add_column(sa.Column("blocked_until", core.db.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_login_counters_username", ["username"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM login_counters")
    with op.batch_alter_table("login_counters", schema=None) as batch_op:
        batch_op.drop_index("ix_login_counters_username")
        batch_op.drop_column("username")
        batch_op.drop_column("blocked_until")
        batch_op.alter_column("subject", existing_type=sa.String(length=128),
                              type_=sa.String(length=64), existing_nullable=False)
