"""The database dialect in one place: which one we are on, upserts, ``FOR UPDATE SKIP LOCKED``.

The hotline runs on PostgreSQL (production) and SQLite (a single machine, the tests). Code
asks here instead of reading ``bind.dialect.name`` itself:

- :func:`is_postgresql` / :func:`is_sqlite` for the places that do differ
  (:func:`supported_dialect` where any other database must be refused);
- :func:`insert` for an ``INSERT`` that takes ``ON CONFLICT`` (the ``postgresql`` or ``sqlite``
  construct; both have ``on_conflict_do_nothing`` / ``on_conflict_do_update``), and the two
  common shapes :func:`insert_or_ignore` and :func:`upsert`;
- :func:`skip_locked` for a ``SELECT`` whose rows concurrent workers share out.

Dialect-specific code that stays where it is, and why (each branches with the tests above):

- Full-text search: ``knowledge/search.py`` and ``casesearch/`` (``index.py``, ``query.py``)
  keep an FTS5 virtual table on SQLite and a table with a ``tsvector`` and a GIN index on
  PostgreSQL. The two differ in schema, query language and ranking (``bm25`` vs
  ``ts_rank``), not in syntax; each module is the one home of its index, and writes it as
  SQL text (a ``DELETE`` and an ``INSERT`` by ``rowid`` into FTS5, which has no ``ON
  CONFLICT``; an ``INSERT … ON CONFLICT DO UPDATE`` on PostgreSQL).
- Upserts written as SQL text because compiling the dialect's ``insert()`` construct costs
  more than the round trip (SQLAlchemy does not cache those constructs), and the syntax is
  shared by PostgreSQL and SQLite 3.35+: the case-number counter (``cases/numbering.py``)
  and the voicemail reservation (``cases/voicemail.py``), which on PostgreSQL is one
  statement with data-modifying CTEs and four statements on SQLite.
- SQL that only one database has: local-time functions (``reports/indicators.py``,
  ``reports/ledger_export.py``), planner settings (``reports/indicators.py``,
  ``knowledge/search.py``), work done on a second connection only where there is more than
  one writer (``cases/numbering.py``, ``ivr/case_hooks.py``, ``reports/overview.py``,
  ``reports/snapshots.py``), SQLite's write-first ordering (``ivr/calllog.py``), and the
  engines and pragmas of ``core/db.py`` (chosen by URL, before there is an engine to ask).
- Schema: partial indexes declare both ``postgresql_where`` and ``sqlite_where`` on the
  model (``cases/case_models.py``); SQLAlchemy picks the one of the database.
- Migrations (``migrations/versions/*``) keep their own branches: each must run as written
  on the day it was written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

# What the helpers accept to find the database: a session (``db.session`` is a scoped one),
# a connection or an engine.
Bind = Session | scoped_session[Any] | Connection | Engine
# An ``INSERT`` that takes ``ON CONFLICT`` (the same methods on both).
ConflictInsert = postgresql.Insert | sqlite.Insert
# Columns of a unique index or constraint: names or column objects.
IndexElements = Sequence[Any]
# One row's values, or several rows for a multi-row ``INSERT``.
Values = Mapping[str, Any] | Sequence[Mapping[str, Any]]
SUPPORTED = ("postgresql", "sqlite")

S = TypeVar("S", bound=Select[Any])


def dialect_name(bind: Bind) -> str:
    """``"postgresql"`` or ``"sqlite"`` (or another dialect's name, which nothing supports)."""
    engine_or_connection = (bind.get_bind() if isinstance(bind, Session | scoped_session)
                            else bind)
    return engine_or_connection.dialect.name


def is_postgresql(bind: Bind) -> bool:
    return dialect_name(bind) == "postgresql"


def is_sqlite(bind: Bind) -> bool:
    return dialect_name(bind) == "sqlite"


def supported_dialect(bind: Bind) -> str:
    """``"postgresql"`` or ``"sqlite"``; :class:`RuntimeError` on any other database."""
    name = dialect_name(bind)
    if name not in SUPPORTED:
        raise RuntimeError(f"unsupported database {name} (the hotline runs on "
                           f"{' and '.join(SUPPORTED)})")
    return name


def insert(bind: Bind, table: Any) -> ConflictInsert:
    """``INSERT INTO table`` that takes ``ON CONFLICT`` on this database (PostgreSQL, SQLite;
    :class:`RuntimeError` on any other)."""
    if supported_dialect(bind) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_or_ignore(bind: Bind, table: Any, values: Values,
                     index_elements: IndexElements) -> ConflictInsert:
    """``INSERT … ON CONFLICT (index_elements) DO NOTHING``: a row that exists stays as it is.

    Add ``.returning(…)`` to learn whether this statement inserted the row (no row back:
    it existed, or a concurrent transaction inserted it first)."""
    stmt = insert(bind, table)
    stmt = stmt.values(values) if isinstance(values, Sequence) else stmt.values(**values)
    return stmt.on_conflict_do_nothing(index_elements=list(index_elements))


def upsert(bind: Bind, table: Any, values: Mapping[str, Any], index_elements: IndexElements,
           update: Sequence[str] | Mapping[str, Any]) -> ConflictInsert:
    """``INSERT … ON CONFLICT (index_elements) DO UPDATE``, one atomic statement.

    ``update`` names the columns that take the new row's values (``EXCLUDED.column``), or maps
    columns to expressions (which may read the stored row, e.g. ``Counter.tries + 1``)."""
    stmt = insert(bind, table).values(**values)
    set_ = (dict(update) if isinstance(update, Mapping)
            else {name: stmt.excluded[name] for name in update})
    return stmt.on_conflict_do_update(index_elements=list(index_elements), set_=set_)


def skip_locked(stmt: S) -> S:
    """``stmt … FOR UPDATE SKIP LOCKED`` on PostgreSQL: concurrent workers take different rows.

    SQLite has no row locks (one writer at a time holds the whole database), so there the
    clause is left out when the statement is compiled and the rows are read as they are."""
    return stmt.with_for_update(skip_locked=True)
