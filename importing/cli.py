"""``flask cases import``: batch entry of cases from a spreadsheet or CSV file.

Added to the ``flask cases`` group by ``app.py`` (``cases.cli.cases_cli(import_command)``):
the case domain does not import this package.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app

from cases.actors import Actor
from cases.vocab import Channel
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db
from importing.cases import import_cases
from importing.rows import ImportFileError


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row and report errors; keep nothing")
@click.option("--skip-invalid", is_flag=True, help="keep the good rows even if some are bad")
@click.option("--channel", type=click.Choice([c.value for c in Channel]), default=None,
              help="channel for rows without one (e.g. forum)")
def import_command(path: Path, dry_run: bool, skip_invalid: bool, channel: str | None) -> None:
    """File the rows of PATH (.xlsx or .csv) as cases, with a report of row errors."""
    actor = Actor("admin", f"批量导入（{getpass.getuser()}）：{path.name}")
    now = clock_of(current_app.config)()
    try:
        with db.transaction() as session:
            report = import_cases(session, path, actor=actor, now=now, dry_run=dry_run,
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
