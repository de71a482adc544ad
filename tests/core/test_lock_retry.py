"""Idempotent work runs again after a lock conflict: bounded, backing off, logged
(``core.db.run_retrying``, ``retry_when_locked``); other errors are raised at once."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.db import db, is_lock_conflict, retry_when_locked, run_retrying
from tests.sqlite_races import StaleSnapshots

NO_WAIT = (0.0, 0.0, 0.0, 0.0)


@pytest.fixture
def counter(app: Any) -> Any:
    engine = db.engine
    assert engine is not None
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE retry_t (id INTEGER PRIMARY KEY, n INT)"))
        conn.execute(text("INSERT INTO retry_t VALUES (1, 0), (2, 0)"))
    yield engine
    db.session.remove()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE retry_t"))


def _read_then_write() -> int:
    """A transaction that reads, then writes (plain BEGIN on SQLite): idempotent here."""
    with db.transaction() as session:
        n = int(session.execute(text("SELECT n FROM retry_t WHERE id = 1")).scalar_one())
        session.execute(text("UPDATE retry_t SET n = :n WHERE id = 1"), {"n": n + 1})
        return n + 1


def _meanwhile(engine: Any, stop: threading.Event) -> threading.Thread:
    """Another connection committing changes until ``stop``."""

    def write() -> None:
        while not stop.is_set():
            try:
                with engine.begin() as conn:
                    conn.execute(text("UPDATE retry_t SET n = n + 1 WHERE id = 2"))
            except OperationalError as exc:  # a busy moment must not end the writer
                if not is_lock_conflict(exc):
                    raise
            stop.wait(0.01)

    thread = threading.Thread(target=write, name="other-writer")
    thread.start()
    return thread


def _in_thread(work: Any) -> list[Any]:
    """Run ``work`` in a thread of its own named "work" (the one the races hold back)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            outcome.append(exc)
        finally:
            db.session.remove()

    thread = threading.Thread(target=run, name="work")
    thread.start()
    thread.join(600)
    return outcome


def _sqlite() -> bool:
    return db.engine is not None and db.engine.dialect.name == "sqlite"


def _raced(engine: Any, work: Any, limit: int) -> tuple[list[Any], StaleSnapshots]:
    """``work`` in its thread, its first ``limit`` read-then-write transactions meeting a
    commit of another connection between their read and their write.

    On a loaded machine the other writer may be slow to commit: each held transaction waits
    for it up to a minute, and one that still met no commit fails the test here, by name,
    rather than as a write that unexpectedly went through."""
    stop = threading.Event()
    other = _meanwhile(engine, stop)
    try:
        with StaleSnapshots(engine, watched=lambda: threading.current_thread().name == "work",
                            limit=limit, timeout=60.0) as races:
            outcome = _in_thread(work)
        assert races.timeouts == 0, "the other writer committed nothing for a minute"
        return outcome, races
    finally:
        stop.set()
        other.join(10)


def test_a_stale_snapshot_fails_once_and_the_retry_goes_through(
        counter: Any, caplog: pytest.LogCaptureFixture) -> None:
    if not _sqlite():
        return  # PostgreSQL locks rows: a read does not doom a later write
    attempts: list[int] = []

    def work() -> int:
        attempts.append(1)
        return _read_then_write()

    without, races = _raced(counter, work, limit=1)
    assert races.stale == 1 and len(attempts) == 1
    assert isinstance(without[0], OperationalError) and is_lock_conflict(without[0])
    attempts.clear()
    retried, races = _raced(counter, lambda: run_retrying(work, what="counting",
                                                          delays=NO_WAIT), limit=2)
    assert races.stale == 2 and len(attempts) == 3 and retried == [1]
    warnings = [r.getMessage() for r in caplog.records if r.name == "core.db"]
    assert [m.split(";")[0] for m in warnings] == [
        "counting: lock conflict (database is locked), attempt 1 of 5",
        "counting: lock conflict (database is locked), attempt 2 of 5"]


def test_retries_are_bounded(counter: Any) -> None:
    if not _sqlite():
        return
    attempts: list[int] = []

    def work() -> int:
        attempts.append(1)
        return _read_then_write()

    outcome, races = _raced(counter, lambda: run_retrying(work, what="counting",
                                                          delays=NO_WAIT), limit=100)
    assert isinstance(outcome[0], OperationalError) and is_lock_conflict(outcome[0])
    assert len(attempts) == len(NO_WAIT) + 1 == races.stale


def test_other_errors_are_not_retried(counter: Any) -> None:
    attempts: list[int] = []

    @retry_when_locked
    def broken() -> None:
        attempts.append(1)
        with db.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception) as raised:
        broken()
    assert not is_lock_conflict(raised.value)
    assert attempts == [1]


def test_lock_conflicts_are_told_from_other_errors() -> None:
    import sqlite3

    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    def wrapped(orig: Exception) -> OperationalError:
        return OperationalError("UPDATE x", {}, orig)

    assert is_lock_conflict(wrapped(sqlite3.OperationalError("database is locked")))
    assert is_lock_conflict(wrapped(sqlite3.OperationalError("database table is locked")))
    assert is_lock_conflict(wrapped(PgError("40P01")))  # deadlock_detected
    assert is_lock_conflict(wrapped(PgError("40001")))  # serialization_failure
    assert not is_lock_conflict(wrapped(PgError("23505")))  # unique_violation
    assert not is_lock_conflict(wrapped(sqlite3.OperationalError("no such table: x")))
    try:  # a conflict raised again as something else is still one
        try:
            raise wrapped(sqlite3.OperationalError("database is locked"))
        except OperationalError as exc:
            raise RuntimeError("filing failed") from exc
    except RuntimeError as outer:
        assert is_lock_conflict(outer)


def test_every_periodic_job_is_retried_and_rq_finds_it_by_its_name() -> None:
    from rq.utils import import_attribute

    from workers.periodic import PERIODIC

    for job in PERIODIC:
        assert hasattr(job.func, "__wrapped__"), f"{job.name} is not retried on lock conflicts"
        name = f"{job.func.__module__}.{job.func.__qualname__}"
        # RQ stores the dotted name and imports it in the work horse: the retrying wrapper.
        assert import_attribute(name) is job.func


def test_a_retry_is_logged_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    import sqlite3

    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    with caplog.at_level(logging.WARNING, logger="core.db"):
        assert run_retrying(flaky, what="flaky work", before_retry=lambda: None,
                            delays=NO_WAIT) == "done"
    [record] = [r for r in caplog.records if r.name == "core.db"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "flaky work: lock conflict (database is locked), attempt 1 of 5" in record.getMessage()
