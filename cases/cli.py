"""``flask cases ...``: the overdue sweep, the routing report, and the commands the app adds
(the batch import, ``importing.cli``)."""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from cases.ledger import sweep_overdue
from cases.routing_report import format_report, routing_report
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db


def _now() -> datetime:
    return clock_of(current_app.config)()


@click.command("sweep")
def sweep_command() -> None:
    """Mark overdue cases hanging (挂账) once, as the periodic job does."""
    with db.transaction() as session:
        count = sweep_overdue(session, _now(), hotline_zone(current_app.config))
    click.echo(f"新挂账 {count} 件")


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.command("routing-report")
@click.option("--since", callback=_day, help="received on or after (YYYY-MM-DD)")
@click.option("--until", callback=_day, help="received on or before (YYYY-MM-DD)")
def routing_report_command(since: date | None, until: date | None) -> None:
    """Hit rate of the routing suggestions against the operators' final routing."""
    click.echo(format_report(routing_report(db.session(), since, until)))


def cases_cli(*more: click.Command) -> AppGroup:
    """``flask cases``: the domain's own commands and ``more`` from the packages above it
    (``flask cases import`` is ``importing.cli.import_command``), composed by ``app.py``."""
    group = AppGroup("cases", help="诉求：批量导入、逾期挂账、分办建议命中率。")
    for command in (sweep_command, routing_report_command, *more):
        group.add_command(command)
    return group
