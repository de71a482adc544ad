"""Cases waiting to be (re)segmented into the search index.

The index itself (``case_search``) is dialect-specific — an FTS5 table on SQLite, a table with
a generated ``tsvector`` and a GIN index on PostgreSQL — so the migration creates it and
:mod:`casesearch.index` writes it with SQL, as the knowledge base does with ``kb_search``.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class PendingCase(Base):
    """A case whose words may have changed: written by database triggers, never by hand.

    One row per change (no unique key), so a writer never waits on a refresh that holds an
    earlier row; a refresh takes rows in id order and segments each case once.
    """

    __tablename__ = "case_search_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
