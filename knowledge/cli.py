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

from cases.actors import Actor
from cases.errors import InvalidInput
from cases.importer import ImportFileError
from core.clock import system_clock
from core.db import db
from knowledge.evaluate import STARTER_SET, evaluate, read_queries
from knowledge.search import search
from knowledge.transfer import export_rows, import_articles, write_export

kb_cli = AppGroup("kb", help="知识库：导入、导出、检索、检索效果评估。")


def _now() -> datetime:
    return (current_app.config.get("CLOCK") or system_clock)()


def _today() -> date:
    return _now().astimezone(ZoneInfo(current_app.config["HOTLINE_TZ"])).date()


@kb_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row and report errors; keep nothing")
@click.option("--draft", is_flag=True, help="import as drafts instead of publishing")
def import_command(path: Path, dry_run: bool, draft: bool) -> None:
    """Import articles from PATH (.xlsx or UTF-8 .csv with the fixed header row)."""
    actor = Actor("admin", f"知识库导入（{getpass.getuser()}）：{path.name}")
    try:
        with db.transaction() as session:
            result = import_articles(session, path, actor=actor, now=_now(), draft=draft,
                                     dry_run=dry_run)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in result.errors:
        click.echo(f"错误  {problem}")
    if result.kept:
        state = "草稿" if draft else "已发布"
        click.echo(f"已导入（{state}）：新建 {len(result.created)} 条，"
                   f"更新 {len(result.updated)} 条")
        return
    verdict = "试导入（未保存）" if dry_run and not result.errors else "未导入：请更正错误后重试"
    click.echo(f"{verdict}：共 {result.rows} 行，{len(result.errors)} 处错误")
    if result.errors:
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


@kb_cli.command("evaluate")
@click.argument("path", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def evaluate_command(path: Path | None) -> None:
    """Recall@1 and recall@3 of PATH (CSV: query,expected_title; default: the shipped set)."""
    source = path or STARTER_SET
    try:
        rows = read_queries(source.read_text(encoding="utf-8"))
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from exc
    report = evaluate(db.session(), rows, today=_today())
    click.echo(f"查询 {report.total} 条  recall@1 = {report.recall_at_1:.3f}  "
               f"recall@3 = {report.recall_at_3:.3f}")
    for miss in report.misses:
        got = "、".join(miss.got) or "（无结果）"
        click.echo(f"未命中  {miss.query}  期望：{miss.expected}  实得：{got}")
