"""``flask queue …``: the queue right now (for scripts and operations), and its tick."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from callqueue import service
from callqueue.presence import STATE_LABELS
from callqueue.runtime import QueueRuntime
from callqueue.status import queue_status
from cases.vocab import CATEGORY_LABELS
from core.db import db

queue_cli = AppGroup("queue", help="来电排队：当前排队、回电任务、坐席状态。")


def _runtime() -> QueueRuntime:
    return current_app.extensions["queue_runtime"]


@queue_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def status_command(as_json: bool) -> None:
    """Callers waiting, callback requests pending, operators and their states."""
    runtime = _runtime()
    status = queue_status(db.session, runtime.now())
    if as_json:
        click.echo(json.dumps(status.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"排队 {len(status.waiting)} 人，最长等待 {status.longest_wait} 秒；"
               f"待回电 {len(status.callbacks)} 个（超时 {status.callbacks_overdue} 个）")
    for w in status.waiting:
        click.echo(f"  第{w.position}位 {CATEGORY_LABELS.get(w.area, w.area)} "
                   f"已等待 {w.waited_seconds} 秒  {w.call_sid}")
    for c in status.callbacks:
        overdue = "（已超时）" if c.overdue else ""
        click.echo(f"  回电 {CATEGORY_LABELS.get(c.area, c.area)} 尝试 {c.attempts} 次 "
                   f"期限 {c.deadline:%H:%M}{overdue}  {c.call_sid}" if c.deadline else
                   f"  回电 {c.call_sid}")
    for o in status.operators:
        click.echo(f"  {o.username}\t{STATE_LABELS[o.state]}\t{o.seconds_in_state} 秒")


@queue_cli.command("tick")
def tick_command() -> None:
    """Run the periodic tick once now (the ``queue-tick`` job does it every 5 seconds)."""
    runtime = _runtime()
    changes = service.tick(db.session, runtime, now=runtime.now())
    runtime.commit(db.session, changes)
    click.echo("ok")
