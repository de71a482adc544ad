"""``flask case-search status|reindex``."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from casesearch import rebuild
from casesearch.index import pending_count, refresh
from core.clock import clock_of
from core.db import db
from knowledge import index_state

case_search_cli = AppGroup("case-search", help="诉求全文检索：索引状态、重建索引。")


def _now() -> datetime:
    return clock_of(current_app.config)()


@case_search_cli.command("status")
def status_command() -> None:
    """How many cases wait to be segmented, and whether the index follows the dictionaries."""
    session = db.session()
    click.echo(f"待编入检索索引的诉求：{pending_count(session)} 件")
    state = index_state.read_state(session, index_state.CASES)
    click.echo(index_state.describe(state, rebuild.current_fingerprint(),
                                    current_app.config["HOTLINE_TZ"],
                                    remaining=rebuild.remaining(session, state)))


@case_search_cli.command("reindex")
def reindex_command() -> None:
    """Segment every case again now (the periodic job does it by itself after an upgrade
    that changed the dictionaries)."""
    with db.transaction() as session:
        queued = rebuild.start(session, index_state.locked_state(session, index_state.CASES))
    done = 0
    while True:
        with db.transaction() as session:
            count = refresh(session)
            if not count:  # complete: the fingerprint is recorded with the last batch
                rebuild.finish_if_done(session, _now())
        if not count:
            break
        done += count
        click.echo(f"  已编入 {done} 件", err=True)
    click.echo(f"已重建诉求检索索引：{queued} 件")
