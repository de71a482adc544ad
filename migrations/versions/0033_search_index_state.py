"""search indexes: the fingerprint of the dictionaries and code their tokens were built with

``search_index_state`` holds one row per search index (``kb``: the knowledge base, ``cases``:
case search) with the fingerprint of the segmentation its stored tokens were made with. A
periodic job compares it with the running code's and rebuilds the index in the background
when they differ (docs/knowledge.md, docs/case-search.md). Created empty: an index that has
rows and no fingerprint is rebuilt once.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_index_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("building_upto", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_index_state")),
    )


def downgrade() -> None:
    op.drop_table("search_index_state")
