"""Run Alembic programmatically (``flask db upgrade``, ``make run``, tests)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _alembic_warnings_only() -> Iterator[None]:
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# Importing Alembic logs a line per built-in plugin ("setup plugin …") at INFO: noise.
with _alembic_warnings_only():
    from alembic import command
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head", *, quiet: bool = False) -> None:
    """Migrate to ``revision``; ``quiet`` keeps Alembic's progress lines out of the output
    (a throwaway database set up for a command, whose user came for something else)."""
    with _alembic_warnings_only() if quiet else _unchanged():
        command.upgrade(alembic_config(database_url), revision)


@contextmanager
def _unchanged() -> Iterator[None]:
    yield


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


# Tables the migrations create with dialect-specific SQL and the models do not map: the
# search indexes of the knowledge base and of cases (on SQLite FTS5 tables, whose shadow
# tables share the prefix).
UNMAPPED_TABLES: tuple[str, ...] = ("kb_search", "case_search")


# The shadow tables SQLite's FTS5 creates next to a full-text table.
FTS5_SHADOWS = ("", "_data", "_idx", "_content", "_docsize", "_config")


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Autogenerate / compare hook: leave the unmapped tables (and FTS5's shadows) alone."""
    return not (type_ == "table" and name is not None
                and any(name == table + shadow for table in UNMAPPED_TABLES
                        for shadow in FTS5_SHADOWS))
