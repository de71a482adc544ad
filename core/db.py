"""SQLAlchemy 2.x engine, session and declarative base shared by web and workers."""

from __future__ import annotations

import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from sqlalchemy import DateTime, MetaData, Table, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.dialect import is_postgresql

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
# The webhooks' own pool (Database.run_quick): a gunicorn worker's threads, and as many again.
QUICK_POOL_SIZE = 4

if TYPE_CHECKING:
    from sqlalchemy.util import ScopedRegistry

    class ScopedSession(Session):
        """How ``db.session`` is typed: it proxies every :class:`Session` method to the
        current thread's session, and adds ``remove()`` and ``()`` (that session itself)."""

        registry: ScopedRegistry[Session]

        def remove(self) -> None: ...

        def __call__(self) -> Session: ...

else:
    ScopedSession = scoped_session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A mapped class's ``Table`` (typed: ``__table__`` is declared as any ``FromClause``)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    # WAL lets the web process read while a worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Set while a request or job is about to write (core.db.write_intent): on SQLite its
# transactions then start with BEGIN IMMEDIATE, taking the write lock (waiting up to the busy
# timeout) before the first read. A transaction that read first and writes later cannot wait
# for the lock: if another connection wrote in between, SQLite fails it at once with
# "database is locked" (its snapshot is stale), busy timeout or not.
_WRITE_INTENT: ContextVar[bool] = ContextVar("hotline_write_intent", default=False)


@contextmanager
def write_intent() -> Iterator[None]:
    """Transactions begun inside start by taking SQLite's write lock (no-op elsewhere)."""
    token = _WRITE_INTENT.set(True)
    try:
        yield
    finally:
        _WRITE_INTENT.reset(token)


def set_write_intent(value: bool) -> None:
    """For a whole web request (``core.db.init_app``); :func:`write_intent` elsewhere."""
    _WRITE_INTENT.set(value)


# -- lock conflicts: idempotent work runs again ---------------------------------------------

# Seconds to wait before the 2nd, 3rd… attempt (each drawn between half and all of it, so
# two workers that collided do not collide again in step). Five attempts in all: with the
# busy timeout each may wait 10 s for the lock, so the worst case stays under a minute
# (the shortest job timeout, 60 s; docs/development.md).
LOCK_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.25, 1.0, 2.5)
_LOCK_MESSAGES = ("database is locked", "database table is locked")
# PostgreSQL: serialization_failure, deadlock_detected.
_LOCK_SQLSTATES = frozenset({"40001", "40P01"})


def is_lock_conflict(exc: BaseException | None) -> bool:
    """True if ``exc`` (or what caused it) is a lock conflict: nothing wrong with the work,
    another transaction was in its way, and the same work may simply be run again.

    SQLite's "database is locked" (the write lock was held past the busy timeout, or
    another connection wrote after this transaction read: its snapshot is stale) and
    "database table is locked"; PostgreSQL's serialization failure and deadlock.
    """
    for _ in range(8):  # the cause chain, not endlessly
        if exc is None:
            return False
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        if isinstance(orig, sqlite3.OperationalError) and any(
                message in str(orig) for message in _LOCK_MESSAGES):
            return True
        if getattr(orig, "sqlstate", None) in _LOCK_SQLSTATES:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_retrying(work: Callable[[], T], *, what: str,
                 before_retry: Callable[[], None] | None = None,
                 delays: Sequence[float] = LOCK_RETRY_DELAYS) -> T:
    """Run ``work()``; when it fails on a lock conflict, run it again (bounded, backing off).

    Only for idempotent work: a second run must change nothing the first one committed
    (jobs keyed on their rows, upserts, conditional updates). Work with an effect outside
    the database (a text sent, a call placed) retries its database steps one by one, never
    the effect. ``before_retry`` drops the failed transaction (default: the thread's
    session). Every retry is logged; after the last attempt the conflict is raised.
    """
    attempts = len(delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not is_lock_conflict(exc):
                if attempt > 1:
                    log.warning("%s: failed on attempt %d of %d", what, attempt, attempts)
                raise
            (before_retry or db.session.remove)()
            pause = delays[attempt - 1] * random.uniform(0.5, 1.0)
            log.warning("%s: lock conflict (%s), attempt %d of %d; running it again in "
                        "%.2f s", what, _first_line(exc), attempt, attempts, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def retry_when_locked(func: Callable[P, T]) -> Callable[P, T]:
    """Decorator for idempotent jobs: the whole job runs again after a lock conflict
    (:func:`run_retrying`). RQ finds the job by its name, which stays the function's."""

    @functools.wraps(func)
    def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_retrying(lambda: func(*args, **kwargs), what=func.__qualname__)

    return retried


def _first_line(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return str(orig).splitlines()[0][:200] if str(orig) else type(orig).__name__


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE_INTENT.get() else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine with per-backend settings."""
    url = make_engine_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def make_quick_engine(engine: Engine) -> Engine:
    """The pool of :meth:`Database.run_quick`: autocommit, no pre-ping (PostgreSQL).

    SQLite has no server to lose and no round trip to save: there it is ``engine`` itself.
    """
    if not is_postgresql(engine):
        return engine
    # Only the same few statements run here, again and again: prepare each on its first
    # run and plan it once (the generic plan; their lookups are by key), and hand out the
    # most recently used connection, which has them prepared already.
    return create_engine(
        engine.url, isolation_level="AUTOCOMMIT", pool_size=QUICK_POOL_SIZE,
        max_overflow=QUICK_POOL_SIZE, pool_use_lifo=True,
        connect_args={"prepare_threshold": 0,
                      "options": "-c plan_cache_mode=force_generic_plan"},
    )


class Database:
    """Holds the engine and a thread-local session, like Flask-SQLAlchemy but framework-free."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.quick_engine: Engine | None = None
        self._factory = sessionmaker(expire_on_commit=False)
        self.session = cast(ScopedSession, scoped_session(self._factory))

    def configure(self, url: str, *, session_info: Mapping[str, Any] | None = None) -> Engine:
        """Connect to ``url``; every session gets a copy of ``session_info`` as its ``info``
        (the app's wiring for the domain: ``cases.services``)."""
        self._factory.configure(info=dict(session_info or {}))
        if self.engine is not None and self.engine.url.render_as_string(
            hide_password=False
        ) == make_engine_url(url):
            return self.engine
        if self.engine is not None:
            self.session.remove()
            self.dispose()
        self.engine = make_engine(url)
        self.quick_engine = make_quick_engine(self.engine)
        self._factory.configure(bind=self.engine)
        return self.engine

    def new_session(self, bind: Connection | None = None) -> Session:
        """A session of its own (not the thread's scoped one), with the app's ``info``;
        on ``bind`` (e.g. a connection of :meth:`run_quick`) if given."""
        return self._factory(bind=bind) if bind is not None else self._factory()

    def dispose(self, close: bool = True) -> None:
        """Drop both pools' connections (``close=False`` in a forked child: leave the
        parent's sockets alone)."""
        for engine in (self.engine, self.quick_engine):
            if engine is not None:  # on SQLite both are the same engine: disposed twice
                engine.dispose(close=close)

    def run_quick(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on the webhooks' pool, in autocommit on PostgreSQL; ``work`` commits.

        For the hot path's single idempotent statements. That pool does not pre-ping: the
        main engine's ping costs a round trip at every checkout, as much as such a statement.
        A pooled connection that died with a database restart fails instead, which discards
        the pool's older connections too, and ``work`` runs once more on a new one, so a
        caller still does not hear the apology for it.
        """
        assert self.quick_engine is not None, "Database.configure() first"
        try:
            with self.quick_engine.connect() as conn:
                return work(conn)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("database connection lost (%s); running the statement again", exc.orig)
        with self.quick_engine.connect() as conn:
            return work(conn)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session scope for jobs and CLI commands: commit on success, roll back on error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self.session.remove()

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """:meth:`transaction` for work that reads before it writes: on SQLite it begins by
        taking the write lock (:func:`write_intent`), so a writer committing meanwhile
        makes it wait instead of failing. Keep it short: other writers wait for it."""
        with write_intent(), self.transaction() as session:
            yield session


def make_engine_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


db = Database()
