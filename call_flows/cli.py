"""``flask workdays ...`` and ``flask flows ...``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from call_flows.calendar_store import delete_override, load_overrides, set_override
from call_flows.flow import FlowError, load_flow_file, load_flows
from call_flows.mermaid import to_mermaid
from call_flows.validator import validate_flow
from call_flows.workdays import WorkCalendar
from core.db import db

workdays_cli = AppGroup("workdays", help="工作日日历：查询、计算期限、维护调整表。")
flows_cli = AppGroup("flows", help="呼叫流程：校验与图示。")


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
    this_year = date.today().year
    missing = WorkCalendar().years_without_data(range(this_year - 1, this_year + 3))
    if missing:
        click.echo("provisional years (no official data): " + ", ".join(map(str, missing)))


@flows_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def flows_check_command(paths: tuple[Path, ...]) -> None:
    """Validate the installed flows, or the flow files PATHS before deploying them."""
    registry = current_app.extensions["ivr_runtime"].engine.hooks
    try:
        flows = (
            {path.stem: load_flow_file(path) for path in paths} if paths else load_flows()
        )
    except FlowError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    errors = 0
    for flow in flows.values():
        problems = validate_flow(flow, registry)
        for problem in problems:
            click.echo(str(problem), err=True)
        errors += sum(p.severity == "error" for p in problems)
        if not problems:
            click.echo(f"{flow.name}: ok ({len(flow.nodes)} nodes)")
    sys.exit(1 if errors else 0)


@flows_cli.command("show")
@click.argument("name")
def flows_show_command(name: str) -> None:
    """Print flow NAME as a Mermaid diagram."""
    flows = load_flows()
    if name not in flows:
        raise click.BadParameter(f"no flow {name!r}; known: {', '.join(sorted(flows))}")
    click.echo(to_mermaid(flows[name]), nl=False)
