"""``flask workdays ...``: ask the working-day calendar, keep its overrides."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from core.clock import clock_of
from core.config import hotline_zone
from core.db import db
from workdays.calendar import WorkCalendar
from workdays.store import delete_override, load_overrides, set_override

workdays_cli = AppGroup("workdays", help="工作日日历：查询、计算期限、维护调整表。")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _calendar() -> WorkCalendar:
    return WorkCalendar(load_overrides(db.session()))


@workdays_cli.command("check")
@click.argument("day")
def check_command(day: str) -> None:
    """Is DAY a working day, why, and is the answer provisional?"""
    info = _calendar().info(_parse_day(day))
    state = "working day" if info.working else "not a working day"
    flag = " (provisional)" if info.provisional else ""
    click.echo(f"{info.day.isoformat()} {state}: {info.reason} [{info.source}]{flag}")


@workdays_cli.command("due")
@click.argument("day")
@click.argument("n", type=click.IntRange(min=0))
def due_command(day: str, n: int) -> None:
    """The due date N working days after a case received on DAY."""
    due = _calendar().due_date(_parse_day(day), n)
    click.echo(due.day.isoformat() + (" provisional" if due.provisional else ""))


@workdays_cli.command("set")
@click.argument("day")
@click.option("--working/--off", required=True, help="working day or day off")
@click.option("--note", default="", help="why (e.g. 国务院办公厅通知)")
def set_command(day: str, working: bool, note: str) -> None:
    """Record an override: DAY is (--working) or is not (--off) a working day."""
    with db.transaction() as session:
        set_override(session, _parse_day(day), working, note)
    click.echo(f"{day}: {'working' if working else 'off'} ({note or 'no note'})")


@workdays_cli.command("unset")
@click.argument("day")
def unset_command(day: str) -> None:
    """Remove the override for DAY."""
    with db.transaction() as session:
        removed = delete_override(session, _parse_day(day))
    click.echo(f"{day}: {'override removed' if removed else 'no override'}")


@workdays_cli.command("list")
def list_command() -> None:
    """List overrides and the years that have no official data."""
    overrides = load_overrides(db.session())
    for day, override in sorted(overrides.items()):
        click.echo(f"{day.isoformat()} {'working' if override.working else 'off'} {override.note}")
    this_year = clock_of(current_app.config)().astimezone(hotline_zone(current_app.config)).year
    missing = WorkCalendar().years_without_data(range(this_year - 1, this_year + 3))
    if missing:
        click.echo("provisional years (no official data): " + ", ".join(map(str, missing)))
