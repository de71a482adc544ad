"""The worst interleaving for SQLite writers, made to happen on purpose.

In WAL mode a transaction that began with a plain ``BEGIN`` reads from a snapshot; if another
connection commits a change after that snapshot, the transaction can no longer write: its
first write fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT), busy timeout or
not. Under load this happens now and then, depending on timing. :class:`StaleSnapshots`
makes it happen every time: a watched transaction that read and is about to write waits
until another connection has committed a change since its read. Code that takes the write
lock first (``BEGIN IMMEDIATE``) is never held back: nobody can commit in between. Code that
retries on the conflict is held back only ``limit`` times per thread.

Test-only: injected through SQLAlchemy's events on the test's engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_KEY = "stale_snapshots"  # the connection's current transaction
_DONE = "stale_snapshots_committed"  # its commits not yet counted


class StaleSnapshots:
    """While installed, watched transactions meet a commit between their read and write."""

    def __init__(self, engine: Engine, *, watched: Callable[[], bool] = lambda: True,
                 limit: int = 2, timeout: float = 10.0) -> None:
        self.engine = engine
        self.watched = watched
        self.limit = limit
        self.timeout = timeout
        self.commits = 0  # transactions that changed rows, counted once committed
        # … and counted when they begin to commit: a snapshot taken while one was committing
        # may already hold its change, so only commits begun after the snapshot make it stale.
        self.committing = 0
        self.held: dict[str, int] = {}  # thread name → transactions held back
        self.stale = 0  # held back and met a commit (their snapshot is stale)
        # Held back but no commit came within ``timeout``: they wrote unhindered. A test
        # that needs every held transaction to meet a commit checks this is 0.
        self.timeouts = 0
        self._changed = threading.Condition()
        self._listeners: list[tuple[Any, str, Callable[..., None]]] = [
            (engine, "before_cursor_execute", self._before),
            (engine, "after_cursor_execute", self._after),
            (engine, "commit", self._commit),
            (engine.pool, "checkin", self._checkin),
        ]

    def __enter__(self) -> StaleSnapshots:
        if self.engine.dialect.name == "sqlite":
            for target, name, listener in self._listeners:
                event.listen(target, name, listener)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.engine.dialect.name == "sqlite":
            for target, name, listener in self._listeners:
                event.remove(target, name, listener)

    @staticmethod
    def _verb(statement: str) -> str:
        return statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""

    def _before(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        verb = self._verb(statement)
        state = conn.info.setdefault(_KEY, {})
        if verb == "BEGIN":
            state.clear()
            state["immediate"] = "IMMEDIATE" in statement.upper()
            return
        if verb not in _WRITES:
            return
        # Only before a transaction's first write: after it, it holds the write lock.
        first_write = not state.get("wrote")
        state["wrote"] = True
        if (first_write and "read_at" in state and not state.get("immediate")
                and self.watched()):
            me = threading.current_thread().name
            if self.held.get(me, 0) >= self.limit:
                return
            self.held[me] = self.held.get(me, 0) + 1
            with self._changed:
                if self._changed.wait_for(lambda: self.commits > state["read_at"],
                                          self.timeout):
                    self.stale += 1
                else:
                    self.timeouts += 1

    def _after(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        verb = self._verb(statement)
        state = conn.info.setdefault(_KEY, {})
        if verb in ("SELECT", "WITH") and "read_at" not in state and "immediate" in state:
            with self._changed:
                state["read_at"] = self.committing  # the snapshot is taken by now
        elif verb in _WRITES and (cursor.rowcount or 0) > 0:
            state["changed"] = True

    def _commit(self, conn: Any) -> None:
        if conn.info.setdefault(_KEY, {}).pop("changed", False):
            conn.info[_DONE] = conn.info.get(_DONE, 0) + 1
            with self._changed:
                self.committing += 1

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        # Counted here, after the commit itself: the "commit" event comes before it.
        done = record.info.pop(_DONE, 0) if record is not None else 0
        if done:
            with self._changed:
                self.commits += done
                self._changed.notify_all()
