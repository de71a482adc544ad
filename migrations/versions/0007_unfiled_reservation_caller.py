"""Index unfiled voicemail reservations by caller.

The ``<Record>`` webhook looks for an earlier unfiled message of the same caller; without
this index the lookup reads every unfiled reservation, which grows while no worker runs.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voicemail_reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voicemail_reservations_unfiled_caller",
            ["caller"],
            unique=False,
            postgresql_where=sa.text("filed_at IS NULL"),
            sqlite_where=sa.text("filed_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemail_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_voicemail_reservations_unfiled_caller")
