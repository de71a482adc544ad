"""The webhooks' quick pool: autocommit, no pre-ping, one more try on a lost connection."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from core.db import db


def backend_pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.postgresql_only
def test_a_connection_lost_with_a_database_restart_is_retried_on_a_new_one(
    app: object,
) -> None:
    dead = db.run_quick(backend_pid)
    assert db.engine is not None
    with db.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
        admin.commit()
    pids: list[int] = []

    def work(conn: Connection) -> int:
        pids.append(0)  # counts the attempts; the first one meets the dead connection
        return backend_pid(conn)

    assert db.run_quick(work) != dead
    assert len(pids) == 2


@pytest.mark.postgresql_only
def test_quick_statements_commit_without_a_transaction(app: object) -> None:
    db.run_quick(lambda conn: conn.execute(text(
        "CREATE TABLE quick_probe (id integer)")))
    try:
        assert db.engine is not None
        with db.engine.connect() as other:
            assert other.execute(text("SELECT count(*) FROM quick_probe")).scalar_one() == 0
    finally:
        db.run_quick(lambda conn: conn.execute(text("DROP TABLE quick_probe")))


def test_other_database_errors_are_not_retried(app: object) -> None:
    attempts: list[int] = []

    def broken(conn: Connection) -> None:
        attempts.append(1)
        conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(DBAPIError):
        db.run_quick(broken)
    assert attempts == [1]

