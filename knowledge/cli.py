"""``flask kb ...``: import, export, search and evaluate the knowledge base."""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from cases.actors import Actor
from cases.errors import InvalidInput
from core.clock import clock_of
from core.db import db
from importing.rows import ImportFileError
from knowledge import index_state
from knowledge.evaluate import SHIPPED_SETS, Figures, evaluate, read_queries
from knowledge.models import Article, CountedArticle
from knowledge.reindex import current_fingerprint, reindex
from knowledge.search import NO_ANSWER_BELOW, search
from knowledge.transfer import export_rows, import_articles, write_export

kb_cli = AppGroup("kb", help="知识库：导入、导出、检索、检索效果评估、索引状态。")


def _now() -> datetime:
    return clock_of(current_app.config)()


def _today() -> date:
    return _now().astimezone(ZoneInfo(current_app.config["HOTLINE_TZ"])).date()


@kb_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row and report; keep nothing")
@click.option("--draft", is_flag=True, help="import as drafts instead of publishing")
@click.option("--strict", is_flag=True, help="keep nothing while any row has an error")
def import_command(path: Path, dry_run: bool, draft: bool, strict: bool) -> None:
    """Import articles from PATH (.xlsx or UTF-8 .csv with the fixed header row).

    Every row is reported; good rows are imported and bad ones skipped (exit status 1 when
    any row was skipped).
    """
    actor = Actor("admin", f"知识库导入（{getpass.getuser()}）：{path.name}")
    try:
        with db.transaction() as session:
            result = import_articles(session, path, actor=actor, now=_now(), draft=draft,
                                     dry_run=dry_run, strict=strict)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for outcome in result.outcomes:
        click.echo(str(outcome))
    skipped = sum(1 for o in result.outcomes if o.action == "skipped")
    if dry_run:
        verdict = "试导入（未保存）"
    elif strict and skipped:
        verdict = "未导入（--strict）：请更正错误后重试"
    else:
        verdict = f"已导入（{'草稿' if draft else '已发布'}）"
    click.echo(f"{verdict}：共 {result.rows} 行，新建 {len(result.created)} 条，"
               f"更新 {len(result.updated)} 条，未导入 {skipped} 行")
    if skipped:
        raise SystemExit(1)


@kb_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "include_all", is_flag=True, help="every article, not only published")
def export_command(path: Path, include_all: bool) -> None:
    """Write the articles to PATH (.csv or .xlsx), in the import format."""
    try:
        rows = export_rows(db.session(), include_all=include_all)
        write_export(rows, path)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已导出 {len(rows) - 1} 条到 {path}")


@kb_cli.command("search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="a JSON list of id, title, score, matched")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
def search_command(query: str, as_json: bool, limit: int) -> None:
    """Rank published, in-force articles for QUERY."""
    hits = search(db.session(), query, today=_today(), limit=limit)
    if as_json:
        click.echo(json.dumps([{"id": h.article_id, "title": h.title, "score": h.score,
                                "matched": h.matched} for h in hits], ensure_ascii=False))
        return
    if not hits:
        click.echo("没有找到相关条目")
    for rank, hit in enumerate(hits, start=1):
        click.echo(f"{rank}. [{hit.article_id}] {hit.title}  {hit.score:.3f}  "
                   f"命中：{'、'.join(hit.matched)}")


@kb_cli.command("reindex")
def reindex_command() -> None:
    """Segment every article again now (the periodic job does it by itself after an upgrade
    that changed the dictionaries)."""
    with db.transaction() as session:
        count = reindex(session, _now())
    click.echo(f"已重建索引：{count} 条")


@kb_cli.command("status")
def status_command() -> None:
    """How many articles are indexed, and whether the index follows the dictionaries."""
    session = db.session()
    indexed = session.scalar(select(func.count(CountedArticle.article_id))) or 0
    articles = session.scalar(select(func.count(Article.id))) or 0
    click.echo(f"知识库条目：{articles} 条，其中计入检索统计（已发布）{indexed} 条")
    click.echo(index_state.describe(index_state.read_state(session, index_state.KB),
                                    current_fingerprint(), current_app.config["HOTLINE_TZ"]))


def _figures_line(label: str, figures: Figures) -> str:
    return (f"{label}：查询 {figures.answerable + figures.unanswerable} 条（有答案 "
            f"{figures.answerable}，无答案 {figures.unanswerable}）  "
            f"recall@1 = {figures.recall_at_1:.3f}  recall@3 = {figures.recall_at_3:.3f}  "
            f"无答案判定 precision = {figures.no_answer_precision:.3f}  "
            f"recall = {figures.no_answer_recall:.3f}")


@kb_cli.command("evaluate")
@click.argument("path", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--calibrate", is_flag=True,
              help="print the figures at every threshold of the no-answer relevance")
def evaluate_command(path: Path | None, calibrate: bool) -> None:
    """Recall@1, recall@3 and no-answer precision of PATH (CSV: query,expected_title; an
    empty title means no answer), or of the shipped sets (tuning, held-out, fresh)."""
    sources = {path.name: path} if path else SHIPPED_SETS
    session = db.session()
    for label, source in sources.items():
        try:
            rows = read_queries(source.read_text(encoding="utf-8"))
        except InvalidInput as exc:
            raise click.ClickException(exc.message) from exc
        report = evaluate(session, rows, today=_today())
        click.echo(_figures_line(label, report.at()) + f"  （阈值 {NO_ANSWER_BELOW}）")
        if calibrate:
            for figures in report.calibration():
                click.echo(f"  阈值 {figures.threshold:.2f}  recall@1 {figures.recall_at_1:.3f}"
                           f"  recall@3 {figures.recall_at_3:.3f}  无答案 precision "
                           f"{figures.no_answer_precision:.3f} recall "
                           f"{figures.no_answer_recall:.3f}")
        for miss in report.misses():
            got = "、".join(f"{title}({share:.2f})" for title, share in miss.got) or "（无结果）"
            click.echo(f"未命中  {miss.query}  期望：{miss.expected or '（无答案）'}  实得：{got}")
