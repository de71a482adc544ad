"""``flask followups ...``: the operator task list, and the periodic jobs run once by hand."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from core.db import db
from core.jobs import set_app
from followup import jobs as followup_jobs
from followup.queries import operator_tasks
from messaging.jobs import send_due_texts

followups_cli = AppGroup("followups", help="回访与督办：人工回访任务、立即运行定时任务。")


@followups_cli.command("tasks")
def tasks_command() -> None:
    """List the follow-ups an operator has to make by phone (人工回访)."""
    tasks = operator_tasks(db.session())
    for task in tasks:
        case = task.case
        click.echo(f"{case.number}  {case.contact_phone or '无电话'}  "
                   f"{task.operator_reason or ''}  尝试{task.attempt_count}次")
    click.echo(f"{len(tasks)} 条待人工回访")


@followups_cli.command("tick")
def tick_command() -> None:
    """Schedule new follow-ups, enqueue due calls, send due texts (what cron does each minute)."""
    set_app(current_app._get_current_object())  # type: ignore[attr-defined]
    counts = followup_jobs.followups_tick()
    counts["sms"] = send_due_texts()
    click.echo(counts)


@followups_cli.command("reminders")
def reminders_command() -> None:
    """Send the deadline reminders that are due (提醒 / 催办 / 督办), each once."""
    set_app(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"{followup_jobs.send_reminders_job()} 条提醒已发送")
