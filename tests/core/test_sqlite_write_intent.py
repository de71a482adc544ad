"""SQLite: a write that read first fails with "database is locked" when another connection
wrote in between, busy timeout or not; with write intent the transaction takes the lock
first and waits instead (core.db.write_intent), and console posts have it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from core.db import db, write_intent


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WTF_CSRF_ENABLED"] = False  # the sign-in form posted below
    return app_config


def _race(intent: bool) -> list[BaseException]:
    """A reads, B writes meanwhile, then A writes; the errors either raised."""
    errors: list[BaseException] = []
    a_read, b_done = threading.Event(), threading.Event()
    engine = db.engine
    assert engine is not None
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS race_t (id INTEGER PRIMARY KEY, n INT)"))
        conn.execute(text("DELETE FROM race_t"))
        conn.execute(text("INSERT INTO race_t VALUES (1, 0), (2, 0)"))

    def a() -> None:
        try:
            with (write_intent() if intent else nullcontext()), engine.connect() as conn, \
                    conn.begin():
                conn.execute(text("SELECT n FROM race_t WHERE id = 1")).scalar()
                a_read.set()
                b_done.wait(2)  # with intent B cannot write before A commits
                conn.execute(text("UPDATE race_t SET n = n + 1 WHERE id = 1"))
        except BaseException as exc:
            errors.append(exc)

    def b() -> None:
        try:
            a_read.wait(10)
            with engine.begin() as conn:
                conn.execute(text("UPDATE race_t SET n = n + 1 WHERE id = 2"))
            b_done.set()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE race_t"))
    return errors

def test_a_write_after_a_read_fails_without_intent_and_waits_with_it(app: Any) -> None:
    if db.engine is None or db.engine.dialect.name != "sqlite":
        return  # PostgreSQL locks rows, not the database: nothing to race
    failed = _race(intent=False)
    assert failed and isinstance(failed[0], OperationalError)
    assert "database is locked" in str(failed[0])
    assert _race(intent=True) == []

@contextmanager
def begins_seen() -> Iterator[list[str]]:
    """The BEGIN statements the engine sends while the block runs."""
    begins: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield begins
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_console_posts_begin_immediate_and_pages_do_not(client: Any) -> None:
    if db.engine is None or db.engine.dialect.name != "sqlite":
        return
    with begins_seen() as posted:
        client.post("/console/login", data={"username": "nobody", "password": "x" * 12})
    with begins_seen() as begins:
        client.get("/console/login")
        client.get("/healthz")
    assert posted and set(posted) == {"BEGIN IMMEDIATE"}
    assert "BEGIN IMMEDIATE" not in begins


def test_a_post_served_in_this_thread_leaves_no_write_intent_behind(client: Any) -> None:
    # The test client (and `flask call`) serve requests in the caller's thread: after a
    # console post, the caller's own reads must not begin by taking SQLite's write lock.
    if db.engine is None or db.engine.dialect.name != "sqlite":
        return
    client.post("/console/login", data={"username": "nobody", "password": "x" * 12})
    db.session.remove()
    with begins_seen() as begins:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    assert begins == ["BEGIN"]
