"""Test databases: cloned from a migrated template, emptied cheaply between tests.

Migrating from scratch costs seconds, and a test session, a subprocess suite or a second
developer's run would each pay it again. Instead the migrations run once per *schema* — the
content of ``migrations/`` — into a template, and every session clones it:

- PostgreSQL: a database ``hotline_template_<fingerprint>`` marked ``IS_TEMPLATE``, built
  under an advisory lock (concurrent sessions wait for the first), cloned with
  ``CREATE DATABASE … TEMPLATE`` into ``hotline_test_<fingerprint>_<n>``. Each clone is used
  by one session at a time (an advisory lock) and kept for the next session, which empties
  it: ``DROP DATABASE`` forces a checkpoint of the whole server, which on a busy machine
  takes longer than many tests. A change to any migration changes the fingerprint, so a
  stale template is never used; templates beyond the newest few are dropped with their
  clones.
- SQLite: a migrated file ``<fingerprint>.db`` in a per-user cache directory, written under
  a temporary name and renamed into place, copied per session.

Between tests every table is emptied and its id sequence restarted (what
``TRUNCATE … RESTART IDENTITY`` did). On PostgreSQL ``TRUNCATE`` creates new files for every
table and index and costs about a second on a busy machine; here one ``DO`` block deletes
the rows with triggers off (``session_replication_role = replica``: foreign keys and the
append-only trigger of ``case_events`` do not fire, and nothing is left that a key could point
at) and resets the sequences that were used. Roles that may not do that fall back to
``TRUNCATE``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from core.db import Base, make_engine_url
from migrations.runner import MIGRATIONS_DIR, UNMAPPED_TABLES, upgrade

TEMPLATE_PREFIX = "hotline_template_"
SESSION_PREFIX = "hotline_test_"
# Templates of other schemas (other branches, older checkouts) kept besides the current one.
KEEP_OTHER_TEMPLATES = 6
# pg_advisory_lock key for building templates: "8718" and a tag.
TEMPLATE_LOCK = 8718_0001
# pg_try_advisory_lock(SLOT_LOCK, hashtext(name)): the session that uses that database.
SLOT_LOCK = 8718


def schema_fingerprint(directory: Path = MIGRATIONS_DIR) -> str:
    """A hash of every file under ``migrations/`` (names and contents), caches excluded."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- PostgreSQL ------------------------------------------------------------------------

# What a clone must match to be reused: tables, columns, indexes, constraints, triggers and
# the Alembic revision. A test that changed the schema of its database gets a fresh clone.
SCHEMA_SIGNATURE = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT 'c ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
         || ' ' || coalesce(column_default, '') AS item
    FROM information_schema.columns WHERE table_schema = current_schema()
  UNION ALL SELECT 'i ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
  UNION ALL SELECT 'k ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
  UNION ALL SELECT 't ' || tgrelid::regclass::text || ' ' || tgname
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'v ' || version_num FROM alembic_version
) AS schema
"""


def _admin_engine(base_url: str) -> Engine:
    return create_engine(make_engine_url(base_url), isolation_level="AUTOCOMMIT",
                         pool_size=2, max_overflow=0)


def _url_of(base_url: str, name: str) -> str:
    return make_url(make_engine_url(base_url)).set(database=name).render_as_string(
        hide_password=False)


def _signature(url: str) -> str:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text(SCHEMA_SIGNATURE)).scalar())
    finally:
        engine.dispose()


def _ensure_postgres_template(admin: Engine, base_url: str, fingerprint: str) -> tuple[str, str]:
    """The template of this schema (built if need be) and its schema signature."""
    name = f"{TEMPLATE_PREFIX}{fingerprint}"
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": TEMPLATE_LOCK})
        try:
            ready = conn.execute(text(
                "SELECT datistemplate AND shobj_description(oid, 'pg_database') IS NOT NULL "
                "FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not ready:
                # Absent, or half-built by a run that died: build it afresh.
                if ready is not None:
                    conn.execute(text(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false'))
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                upgrade(_url_of(base_url, name))
                signature = _signature(_url_of(base_url, name))
                conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{signature}'"))
                conn.execute(text(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true '
                                  "ALLOW_CONNECTIONS false"))
            signature = conn.execute(text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = :n"), {"n": name}).scalar()
            _drop_old_databases(conn, fingerprint)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": TEMPLATE_LOCK})
    return name, str(signature)


def _drop_old_databases(conn: Connection, fingerprint: str) -> None:
    """Keep the newest few templates of other schemas; drop older ones and their clones."""
    templates = conn.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE :p AND datname <> :keep "
             "ORDER BY oid DESC"),
        {"p": f"{TEMPLATE_PREFIX}%", "keep": f"{TEMPLATE_PREFIX}{fingerprint}"}).scalars().all()
    kept = {fingerprint} | {t.removeprefix(TEMPLATE_PREFIX)
                            for t in templates[:KEEP_OTHER_TEMPLATES]}
    for old in templates[KEEP_OTHER_TEMPLATES:]:
        # Another session may be cloning it right now: then leave it for next time.
        with contextlib.suppress(DBAPIError):
            conn.execute(text(f'ALTER DATABASE "{old}" WITH IS_TEMPLATE false'))
            conn.execute(text(f'DROP DATABASE "{old}"'))
    clones = conn.execute(text("SELECT datname FROM pg_database WHERE datname ~ :p"),
                          {"p": f"^{SESSION_PREFIX}[0-9a-f]{{16}}_[0-9]+$"}).scalars().all()
    for clone in clones:
        if clone.removeprefix(SESSION_PREFIX).split("_")[0] in kept:
            continue
        if conn.execute(text("SELECT pg_try_advisory_lock(:a, hashtext(:n))"),
                        {"a": SLOT_LOCK, "n": clone}).scalar():
            try:
                with contextlib.suppress(DBAPIError):
                    conn.execute(text(f'DROP DATABASE "{clone}"'))
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:a, hashtext(:n))"),
                             {"a": SLOT_LOCK, "n": clone})


def claim_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """A database of this session's own, cloned from the migrated template.

    Clones are kept and reused: ``hotline_test_<fingerprint>_<n>``, each held by one session
    at a time through an advisory lock on the admin connection (released when the session
    ends, however it ends). Dropping a database forces a checkpoint of the whole server,
    seconds on a busy machine; reusing one costs a cleaning. Returns the URL and a release.
    """
    admin = _admin_engine(base_url)
    fingerprint = schema_fingerprint()
    template, signature = _ensure_postgres_template(admin, base_url, fingerprint)
    holder = admin.connect()
    for slot in range(256):
        name = f"{SESSION_PREFIX}{fingerprint}_{slot}"
        if holder.execute(text("SELECT pg_try_advisory_lock(:a, hashtext(:n))"),
                          {"a": SLOT_LOCK, "n": name}).scalar():
            break
    else:
        raise RuntimeError("256 test sessions hold a database each: none left")
    url = _url_of(base_url, name)
    exists = holder.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar()
    if exists and _signature(url) != signature:
        holder.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        exists = False
    if exists:
        engine = create_engine(url, poolclass=NullPool)
        Cleaner(engine)()
        engine.dispose()
    else:
        holder.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        # Tests need no durability: a commit need not wait for the WAL to reach the disk.
        holder.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))

    def release() -> None:
        holder.close()  # ends the session, and with it the advisory lock
        admin.dispose()

    return url, release


# -- SQLite ----------------------------------------------------------------------------


def template_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"hotline-test-templates-{os.getuid()}"


def create_sqlite_database(path: Path) -> str:
    """Copy the migrated template (built on first use) to ``path``; returns its URL."""
    cache = template_cache_dir()
    cache.mkdir(mode=0o700, exist_ok=True)
    template = cache / f"{schema_fingerprint()}.db"
    if not template.exists():
        building = cache / f"{template.stem}.{uuid.uuid4().hex[:8]}.building"
        upgrade(f"sqlite:///{building}")
        # Fold the write-ahead log into the file, so the one file is the whole database.
        with contextlib.closing(sqlite3.connect(building)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        os.replace(building, template)  # atomic: a concurrent builder's copy is as good
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


# -- emptying between tests --------------------------------------------------------------


class Cleaner:
    """Empties every table of one database and restarts its ids."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"
        if self.postgresql:
            with engine.connect() as conn:
                self.tables = list(conn.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars())
                self.superuser = conn.execute(text(
                    "SELECT current_setting('is_superuser')")).scalar() == "on"
            deletes = "".join(f'DELETE FROM "{t}";\n' for t in self.tables)
            self.statement = (
                "DO $$ BEGIN\n"
                "SET LOCAL session_replication_role = replica;\n"
                f"{deletes}"
                "PERFORM setval(quote_ident(schemaname) || '.' || quote_ident(sequencename),"
                " start_value, false)"
                " FROM pg_sequences WHERE schemaname = current_schema()"
                " AND last_value IS NOT NULL;\n"
                "END $$")
        else:
            # Mapped tables children first, then the FTS5 index (not in the metadata; its
            # shadow tables are emptied through it).
            self.tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            self.tables += list(UNMAPPED_TABLES)
            # Deleting cases and replies fired the case search's triggers: empty their list
            # last (PostgreSQL deletes with triggers off, or truncates, which fires none).
            self.tables.append("case_search_pending")

    def __call__(self) -> None:
        with self.engine.begin() as conn:
            if not self.postgresql:
                for table in self.tables:
                    conn.execute(text(f"DELETE FROM {table}"))
            elif self.superuser:
                conn.exec_driver_sql(self.statement)
            else:
                mapped = [t.name for t in Base.metadata.sorted_tables]
                conn.execute(text(f"TRUNCATE {', '.join(mapped)} RESTART IDENTITY CASCADE"))
