"""``flask reports …``: indicators, the ledger, the bulletin, accountability, hot topics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from cases.models import Department
from core.db import db
from reports import periods
from reports.accountability import accountability
from reports.context import app_calendar, app_now, scope_for
from reports.filters import LedgerFilters
from reports.hot_topics import hot_topics
from reports.indicators import RATE_LABELS, Scope
from reports.pdf import PdfError
from reports.service import bulletin_document, bulletin_pdf, export_ledger, kpis_json

reports_cli = AppGroup("reports", help="统计报表：指标、台账、简报、督查问责、热点。")

FROM = click.option("--from", "start", required=True, help="开始日期 YYYY-MM-DD（含）")
TO = click.option("--to", "end", required=True, help="结束日期 YYYY-MM-DD（含）")
JSON = click.option("--json", "as_json", is_flag=True, help="输出 JSON")


def _scope(start: str, end: str, unit: str | None = None) -> Scope:
    try:
        period = periods.custom(periods.parse_date(start), periods.parse_date(end))
    except periods.PeriodError as exc:
        raise click.BadParameter(str(exc)) from exc
    department_id = None
    if unit:
        department_id = db.session.scalar(select(Department.id).where(Department.name == unit))
        if department_id is None:
            raise click.BadParameter(f"没有名为“{unit}”的单位", param_hint="--unit")
    return scope_for(current_app, period, department_id)


def _days(value: float | None) -> str:
    """Average working days as the console shows them: 0.0 is a value, only None is —."""
    return "—" if value is None else str(value)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@reports_cli.command("kpis")
@FROM
@TO
@click.option("--unit", default=None, help="只统计该承办单位（单位全称）")
@JSON
def kpis_command(start: str, end: str, unit: str | None, as_json: bool) -> None:
    """Indicators for a period: the centre's (or one unit's) and one line per unit."""
    scope = _scope(start, end, unit)
    data = kpis_json(db.session, scope, app_calendar(current_app), app_now(current_app))
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{scope.period.label}（截至{scope.today}）")
    click.echo(f"  受理 {data['received']}  答复 {data['answered']}  "
               f"平均答复 {_days(data['average_working_days'])} 个工作日")
    for name, label in RATE_LABELS.items():
        rate = data[name]
        value = "—" if rate["value"] is None else f"{rate['value'] * 100:.1f}%"
        click.echo(f"  {label} {value}（{rate['numerator']}/{rate['denominator']}）")
    for row in data["units"]:
        on_time = row["on_time_rate"]
        value = "—" if on_time["value"] is None else f"{on_time['value'] * 100:.1f}%"
        click.echo(f"  {row['unit']}: 受理 {row['received']} 答复 {row['answered']} "
                   f"按时办结率 {value}（{on_time['numerator']}/{on_time['denominator']}）")
    if "queue" in data:
        _echo_queue(data["queue"])


def _percent(ratio: dict[str, Any]) -> str:
    value = "—" if ratio["value"] is None else f"{ratio['value'] * 100:.1f}%"
    return f"{value}（{ratio['numerator']}/{ratio['denominator']}）"


def _echo_queue(queue: dict[str, Any]) -> None:
    """The office-hours queue's figures (reports/queue_figures.py), as one block."""
    seconds = queue["service_level"]["seconds"]
    click.echo(f"  人工服务：来电 {queue['offered']} 接通 {queue['answered']} "
               f"接通率 {_percent(queue['answer_rate'])}")
    click.echo(f"    服务水平（{seconds}秒内接听）{_percent(queue['service_level'])}  "
               f"放弃率 {_percent(queue['abandon_rate'])}（另有短时放弃 "
               f"{queue['short_abandoned']}）")
    click.echo(f"    平均应答 {queue['asa_seconds'] if queue['asa_seconds'] is not None else '—'}"
               f" 秒  平均处理 {queue['aht_seconds'] if queue['aht_seconds'] is not None else '—'}"
               f" 秒  按期回电 {_percent(queue['callbacks']['within_deadline'])}")


@reports_cli.command("ledger")
@FROM
@TO
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--unit", default=None, help="只导出该承办单位的诉求")
def ledger_command(start: str, end: str, out: Path, unit: str | None) -> None:
    """The ledger (台账) of the cases received in a period, as .xlsx."""
    scope = _scope(start, end, unit)
    count = export_ledger(db.session, scope, app_calendar(current_app),
                          LedgerFilters(department_id=scope.department_id), out)
    click.echo(f"已导出 {count} 件诉求到 {out}")


@reports_cli.command("bulletin")
@click.option("--month", required=True, help="月份 YYYY-MM")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def bulletin_command(month: str, out: Path) -> None:
    """The month's bulletin (简报) as .docx, or as PDF when OUT ends in .pdf (the issued
    file once issued)."""
    try:
        period = periods.parse_month(month)
    except periods.PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    scope = scope_for(current_app, period)
    if out.suffix.lower() == ".pdf":
        try:
            out.write_bytes(bulletin_pdf(db.session, scope, app_calendar(current_app)))
        except PdfError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        out.write_bytes(bulletin_document(db.session, scope, app_calendar(current_app)))
    click.echo(f"已生成 {period.label} 简报：{out}")


@reports_cli.command("accountability")
@FROM
@TO
@JSON
def accountability_command(start: str, end: str, as_json: bool) -> None:
    """The accountability list (督查问责) of a period, with the rule behind each case."""
    scope = _scope(start, end)
    entries = accountability(db.session, scope, app_calendar(current_app))
    if as_json:
        _echo_json({"period": {"from": start, "to": end},
                    "entries": [e.as_json() for e in entries]})
        return
    for entry in entries:
        click.echo(f"{entry.department}\t{entry.number}\t{entry.rule_label}\t{entry.detail}")
    click.echo(f"共 {len(entries)} 条")


@reports_cli.command("hot-topics")
@FROM
@TO
@JSON
def hot_topics_command(start: str, end: str, as_json: bool) -> None:
    """Hot topics (热点): keywords per area, rising topics, repeat enterprises."""
    scope = _scope(start, end)
    topics = hot_topics(db.session, scope)
    if as_json:
        _echo_json(topics.as_json())
        return
    for area in topics.areas:
        click.echo(f"{area.label}（{area.cases}件）：" + "、".join(k.word for k in area.keywords))
    for rising in topics.rising:
        click.echo(f"上升：{rising.word} {rising.previous}→{rising.current}")
    for enterprise in topics.repeat_enterprises:
        click.echo(f"重复来诉：{enterprise.name} {enterprise.cases}次")


@reports_cli.command("hot-topics-evaluate")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="标注集 CSV（area,text,topics），默认为内置标注集")
@click.option("--k", default=10, show_default=True, help="每个类别的热点个数")
def hot_topics_evaluate_command(path: Path | None, k: int) -> None:
    """Precision@k of the hot-topic lists on a labelled set of requests."""
    from reports.hot_topics import EVALUATION_PATH, evaluate, labelled_set

    source = path or EVALUATION_PATH
    result = evaluate(source, k)
    click.echo(f"标注集：{len(labelled_set(source))} 条诉求（{source.name}）")
    for label, (hits, listed) in result.areas.items():
        click.echo(f"  {label}：{hits}/{listed}  " + "、".join(result.lists[label]))
    click.echo(f"precision@{k}：{result.precision:.3f}")
