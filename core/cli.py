"""``flask db ...`` and ``flask seed`` (its seeders are given by the app factory)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from core.db import db

db_cli = AppGroup("db", help="数据库迁移 (Alembic).")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION."""
    upgrade_to(revision)


def upgrade_to(revision: str) -> None:
    from migrations.runner import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from migrations.runner import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


def may_print_secrets() -> bool:
    """Demo secrets go to a terminal (or where ``seed --show-secrets`` says), never to a log."""
    return bool(current_app.config.get("SHOW_DEMO_SECRETS")) or sys.stdout.isatty()


# A seeder takes (session, demo) and returns a line to print (or None); it is idempotent.
Seeder = Callable[[Session, bool], str | None]


def seed_command_for(seeders: Sequence[Seeder]) -> click.Command:
    """``flask seed``, running ``seeders`` in order, each in its own transaction."""

    @click.command("seed")
    @click.option("--demo", is_flag=True, help="also create demo accounts and sample data")
    @click.option("--show-secrets", is_flag=True,
                  help="print demo passwords and the demo API token even when the output is "
                       "not a terminal")
    @click.option("--upgrade", is_flag=True,
                  help="first apply every migration, as `flask db upgrade` does (make run: "
                       "one process loading the app instead of two)")
    def seed_command(demo: bool, show_secrets: bool, upgrade: bool) -> None:
        """Seed reference data (the notice's departments) and, with --demo, demo accounts."""
        if upgrade:
            upgrade_to("head")
        current_app.config["SHOW_DEMO_SECRETS"] = show_secrets
        for seeder in seeders:
            with db.transaction() as session:
                line = seeder(session, demo)
            if line:
                click.echo(line)

    return seed_command
