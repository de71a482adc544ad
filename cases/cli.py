"""``flask cases ...``: batch import, the overdue sweep, the routing report."""

from __future__ import annotations

import getpass
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from cases.actors import Actor
from cases.importer import ImportFileError, import_cases
from cases.ledger import sweep_overdue
from cases.routing_report import format_report, routing_report
from cases.vocab import Channel
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db

cases_cli = AppGroup("cases", help="诉求：批量导入、逾期挂账、分办建议命中率。")


def _now() -> datetime:
    return clock_of(current_app.config)()


@cases_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row and report errors; keep nothing")
@click.option("--skip-invalid", is_flag=True, help="keep the good rows even if some are bad")
@click.option("--channel", type=click.Choice([c.value for c in Channel]), default=None,
              help="channel for rows without one (e.g. forum)")
def import_command(path: Path, dry_run: bool, skip_invalid: bool, channel: str | None) -> None:
    """File the rows of PATH (.xlsx or .csv) as cases, with a report of row errors."""
    actor = Actor("admin", f"批量导入（{getpass.getuser()}）：{path.name}")
    try:
        with db.transaction() as session:
            report = import_cases(session, path, actor=actor, now=_now(), dry_run=dry_run,
                                  skip_invalid=skip_invalid, default_channel=channel,
                                  tz=hotline_zone(current_app.config))
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in report.errors:
        click.echo(f"错误  {problem}")
    for warning in report.warnings:
        click.echo(f"提示  {warning}")
    good = len(report.filed)
    if report.kept:
        click.echo(f"已导入 {good} 件（共 {report.rows} 行，{len(report.errors)} 处错误）")
        if report.filed:
            click.echo("诉求编号：" + "、".join(report.filed))
        return
    verdict = "试导入（未保存）" if dry_run else "未导入：请更正错误后重试，或使用 --skip-invalid"
    click.echo(f"{verdict}：共 {report.rows} 行，可导入 {good} 行，{len(report.errors)} 处错误")
    if report.errors:
        raise SystemExit(1)


@cases_cli.command("sweep")
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


@cases_cli.command("routing-report")
@click.option("--since", callback=_day, help="received on or after (YYYY-MM-DD)")
@click.option("--until", callback=_day, help="received on or before (YYYY-MM-DD)")
def routing_report_command(since: date | None, until: date | None) -> None:
    """Hit rate of the routing suggestions against the operators' final routing."""
    click.echo(format_report(routing_report(db.session(), since, until)))
