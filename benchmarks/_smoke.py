"""What keeps a benchmark's ``--smoke`` run cheap: its database cloned, not migrated.

Migrating an empty PostgreSQL database from scratch costs seconds of CPU (the client's and the
server's), and ``tests/benchmarks/test_smoke.py`` runs every benchmark at once. In smoke mode a
benchmark creates its private database as a clone of the test suite's migrated template
(``tests/databases.py``: built once per schema under an advisory lock, reused by every test
session) and still calls ``migrations.runner.upgrade`` on it, which then finds nothing to do.
Commits need no durability there either. The full runs create and migrate as before.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine


def create_database(admin: Engine, admin_url: str, name: str, smoke: bool) -> bool:
    """``CREATE DATABASE name`` on ``admin`` (AUTOCOMMIT); in smoke mode a migrated clone.

    Returns whether it is a clone, migrated to the head of this checkout's migrations (the
    template's name is their fingerprint). A process that needs nothing else of the app may
    then skip ``upgrade``: its Alembic environment imports the whole app, seconds of CPU.
    """
    if not smoke:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return False
    from tests.databases import _ensure_postgres_template, schema_fingerprint

    template, _signature = _ensure_postgres_template(admin, admin_url, schema_fingerprint())
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    return True
