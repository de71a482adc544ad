"""Run Alembic programmatically (``flask db upgrade``, ``make run``, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


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
