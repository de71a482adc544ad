"""core.dialect on the database of this run (PostgreSQL or SQLite): the same result on both."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite

from callqueue.models import QueueLock
from cases.lookup_guard import LookupCounter
from core.db import db
from core.dialect import (
    dialect_name,
    insert,
    insert_or_ignore,
    is_postgresql,
    is_sqlite,
    skip_locked,
    supported_dialect,
    upsert,
)
from reports.models import ReportSnapshot

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _snapshot(key: str, computed_at: datetime, payload: bytes) -> dict[str, Any]:
    return {"key": key, "computed_at": computed_at, "payload": payload}


def test_the_dialect_is_read_from_a_session_a_connection_or_an_engine(app: Any) -> None:
    expected = "postgresql" if ON_POSTGRESQL else "sqlite"
    engine = db.engine
    assert engine is not None
    with db.transaction() as session:
        assert dialect_name(session) == expected
        assert dialect_name(session.connection()) == expected
    assert dialect_name(db.session) == expected  # the thread's scoped session
    assert dialect_name(engine) == supported_dialect(engine) == expected
    assert is_postgresql(engine) is ON_POSTGRESQL
    assert is_sqlite(engine) is not ON_POSTGRESQL


def test_another_database_is_refused() -> None:
    other: Any = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    assert dialect_name(other) == "mysql"
    assert not is_postgresql(other) and not is_sqlite(other)
    with pytest.raises(RuntimeError, match="unsupported database mysql"):
        supported_dialect(other)
    with pytest.raises(RuntimeError, match="unsupported database mysql"):
        insert(other, QueueLock)


def test_insert_is_the_dialects_own(app: Any) -> None:
    with db.transaction() as session:
        stmt = insert(session, QueueLock)
    assert isinstance(stmt, postgresql.Insert if ON_POSTGRESQL else sqlite.Insert)


def test_insert_or_ignore_keeps_the_existing_row(app: Any) -> None:
    with db.transaction() as session:
        first = session.execute(insert_or_ignore(
            session, QueueLock, {"id": 7, "changes": 1}, index_elements=["id"])
            .returning(QueueLock.id)).scalar_one_or_none()
        again = session.execute(insert_or_ignore(
            session, QueueLock, {"id": 7, "changes": 2}, index_elements=["id"])
            .returning(QueueLock.id)).scalar_one_or_none()
    assert (first, again) == (7, None)
    with db.transaction() as session:
        assert session.scalars(select(QueueLock.changes).where(QueueLock.id == 7)).one() == 1


def test_insert_or_ignore_takes_several_rows(app: Any) -> None:
    with db.transaction() as session:
        session.execute(insert_or_ignore(session, QueueLock, {"id": 2, "changes": 5},
                                         index_elements=[QueueLock.id]))
        session.execute(insert_or_ignore(
            session, QueueLock, [{"id": n, "changes": 0} for n in (1, 2, 3)],
            index_elements=[QueueLock.id]))
    with db.transaction() as session:
        rows = session.execute(select(QueueLock.id, QueueLock.changes)
                               .order_by(QueueLock.id)).all()
    assert [tuple(r) for r in rows] == [(1, 0), (2, 5), (3, 0)]


def test_upsert_inserts_then_takes_the_new_values(app: Any) -> None:
    later = AT + timedelta(minutes=5)
    with db.transaction() as session:
        session.execute(upsert(session, ReportSnapshot, _snapshot("k", AT, b"old"),
                               index_elements=[ReportSnapshot.key],
                               update=["computed_at", "payload"]))
    with db.transaction() as session:
        session.execute(upsert(session, ReportSnapshot, _snapshot("k", later, b"new"),
                               index_elements=["key"], update=["payload"]))
    with db.transaction() as session:
        row = session.get_one(ReportSnapshot, "k")
        # Only the columns named in ``update`` change.
        assert (row.computed_at, row.payload) == (AT, b"new")
        assert session.scalars(select(ReportSnapshot.key)).all() == ["k"]


def test_upsert_with_expressions_reads_the_stored_row(app: Any) -> None:
    def bump(by: int) -> int:
        with db.transaction() as session:
            return int(session.execute(upsert(
                session, LookupCounter,
                {"scope": "call", "subject": "CA1", "window_start": AT, "tries": by},
                index_elements=[LookupCounter.scope, LookupCounter.subject],
                update={"tries": case((LookupCounter.tries >= 10, by),
                                      else_=LookupCounter.tries + by)},
            ).returning(LookupCounter.tries)).scalar_one())

    assert [bump(1), bump(2), bump(7), bump(1)] == [1, 3, 10, 1]


def test_skip_locked_is_for_update_skip_locked_on_postgresql_only() -> None:
    stmt = skip_locked(select(QueueLock.id).order_by(QueueLock.id).limit(1))
    assert "FOR UPDATE SKIP LOCKED" in str(stmt.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE" not in str(stmt.compile(dialect=sqlite.dialect()))


def test_skip_locked_reads_the_rows(app: Any) -> None:
    with db.transaction() as session:
        session.execute(insert_or_ignore(
            session, QueueLock, [{"id": n, "changes": 0} for n in (1, 2)], index_elements=["id"]))
    with db.transaction() as session:
        taken = session.scalars(skip_locked(
            select(QueueLock.id).order_by(QueueLock.id).limit(1))).all()
    assert taken == [1]


@pytest.mark.postgresql_only
def test_skip_locked_passes_over_rows_another_transaction_holds(app: Any) -> None:
    with db.transaction() as session:
        session.execute(insert_or_ignore(
            session, QueueLock, [{"id": n, "changes": 0} for n in (1, 2, 3)],
            index_elements=["id"]))
    oldest = skip_locked(select(QueueLock.id).order_by(QueueLock.id).limit(1))
    with db.new_session() as first, db.new_session() as second:
        assert first.scalars(oldest).all() == [1]
        assert second.scalars(oldest).all() == [2]
        first.rollback()
        second.rollback()


# -- one home ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {"tests", "migrations", "benchmarks"}
THE_LAYER = "core/dialect.py"
# Reading the dialect's name, or importing a dialect's own constructs. ``cases/voicemail.py``
# compiles its PostgreSQL-only statement with PostgreSQL's compiler (see core/dialect.py).
DIALECT_CODE = re.compile(
    r"\.dialect\.name\b|from sqlalchemy\.dialects\b|import sqlalchemy\.dialects")
ALLOWED = {("cases/voicemail.py", "from sqlalchemy.dialects")}


def _product_files() -> list[Path]:
    files = list(ROOT.glob("*.py"))
    for init in ROOT.glob("*/__init__.py"):
        if init.parent.name not in NOT_PRODUCT:
            files.extend(init.parent.rglob("*.py"))
    return sorted(files)


def _dialect_code() -> set[tuple[str, str]]:
    found = set()
    for path in _product_files():
        name = str(path.relative_to(ROOT))
        if name != THE_LAYER:
            found.update((name, match) for match in
                         DIALECT_CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_dialect_is_asked_of_core_dialect_only() -> None:
    found = _dialect_code()
    assert found <= ALLOWED, (
        f"dialect checks outside core/dialect.py: {sorted(found - ALLOWED)}; use "
        "core.dialect.is_postgresql / is_sqlite / insert / upsert")
    assert found == ALLOWED, f"remove from ALLOWED: {sorted(ALLOWED - found)}"


def test_the_dialect_scan_sees_dialect_code() -> None:
    names = {str(path.relative_to(ROOT)) for path in _product_files()}
    assert {"app.py", THE_LAYER, "knowledge/search.py"} <= names
    assert not any(name.startswith(("tests/", "migrations/")) for name in names)
    assert DIALECT_CODE.findall('if session.get_bind().dialect.name == "sqlite":\n'
                                "from sqlalchemy.dialects import postgresql\n") == [
        ".dialect.name", "from sqlalchemy.dialects"]
