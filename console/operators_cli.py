"""``flask operators list|set-device|set-skills|presence NAME STATE``: operators for scripts."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from callqueue import service
from callqueue.agents import AgentError, skill_labels
from callqueue.presence import STATE_LABELS, PresenceRefused, State, parse_state
from callqueue.runtime import QueueRuntime
from console.operators import NotAnOperator, agent_by_name, operator_accounts
from core.db import db

operators_cli = AppGroup("operators", help="坐席：列出、接听设备、服务领域、状态。")


def _runtime() -> QueueRuntime:
    return current_app.extensions["queue_runtime"]


def _fail(exc: Exception) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(str(exc))


@operators_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def list_command(as_json: bool) -> None:
    """Operators with their device, skills and state."""
    runtime = _runtime()
    agents = operator_accounts(db.session, runtime.now())
    db.session.commit()
    if as_json:
        click.echo(json.dumps([{
            "username": a.username, "name": a.display_name, "device": a.device,
            "skills": a.skills.split(","), "state": a.state,
            "since": a.state_since.isoformat()} for a in agents], ensure_ascii=False, indent=2))
        return
    for a in agents:
        click.echo(f"{a.username}\t{a.display_name}\t{STATE_LABELS[State(a.state)]}\t"
                   f"{a.device or '（未设置设备）'}\t{skill_labels(a.skills)}")


@operators_cli.command("set-device")
@click.argument("name")
@click.argument("device")
def set_device_command(name: str, device: str) -> None:
    """DEVICE: +8613800138000, sip:8001@pbx.example.cn, or client:NAME (browser)."""
    runtime = _runtime()
    try:
        agent = agent_by_name(db.session, name, runtime.now())
        changes = service.set_device(db.session, runtime, agent.id, device)
        shown = agent.device
        runtime.commit(db.session, changes)
    except (AgentError, NotAnOperator, PresenceRefused) as exc:
        raise _fail(exc) from exc
    click.echo(f"{name} 的接听设备：{shown}")


@operators_cli.command("set-skills")
@click.argument("name")
@click.argument("skills")
def set_skills_command(name: str, skills: str) -> None:
    """SKILLS: service areas, e.g. "factor,policy" or "要素保障,政策咨询"."""
    runtime = _runtime()
    try:
        agent = agent_by_name(db.session, name, runtime.now())
        changes = service.set_skills(db.session, runtime, agent.id, skills, now=runtime.now())
        shown = skill_labels(agent.skills)
        runtime.commit(db.session, changes)
    except (AgentError, NotAnOperator) as exc:
        raise _fail(exc) from exc
    click.echo(f"{name} 的服务领域：{shown}")


@operators_cli.command("presence")
@click.argument("name")
@click.argument("state")
def presence_command(name: str, state: str) -> None:
    """STATE: 空闲 (idle), 小休 (break) or 离线 (offline)."""
    runtime = _runtime()
    try:
        wanted = parse_state(state)
        agent = agent_by_name(db.session, name, runtime.now())
        changes = service.set_presence(db.session, runtime, agent.id, wanted,
                                       now=runtime.now(), from_console=False)
        shown = STATE_LABELS[State(agent.state)]
        runtime.commit(db.session, changes)
    except (AgentError, NotAnOperator, PresenceRefused) as exc:
        raise _fail(exc) from exc
    click.echo(f"{name}：{shown}")
