"""``flask case-search status|reindex``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from casesearch.index import enqueue_all, pending_count, refresh
from core.db import db

case_search_cli = AppGroup("case-search", help="诉求全文检索：索引状态、重建索引。")


@case_search_cli.command("status")
def status_command() -> None:
    """How many cases wait to be segmented into the index."""
    click.echo(f"待编入检索索引的诉求：{pending_count(db.session())} 件")


@case_search_cli.command("reindex")
def reindex_command() -> None:
    """Segment every case again (after an upgrade that changed the dictionaries)."""
    with db.transaction() as session:
        queued = enqueue_all(session)
    done = 0
    while True:
        with db.transaction() as session:
            count = refresh(session)
        if not count:
            break
        done += count
        click.echo(f"  已编入 {done} 件", err=True)
    click.echo(f"已重建诉求检索索引：{queued} 件")
