"""Operators as the queue sees them: device, skills, and moving them through presence.

:func:`move` is the only code that changes an operator's state: it asks the state machine
(``callqueue.presence``) for the next state and keeps the bookkeeping of each state
(idle since, wrap-up end, current offer, the notice shown) consistent with it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callqueue.models import AREAS, Agent
from callqueue.presence import (
    NOTICES,
    STATE_LABELS,
    PresenceRefused,
    State,
    Trigger,
    chosen_trigger,
    next_state,
)
from callqueue.runtime import Changes, QueueRuntime
from cases.vocab import CATEGORY_LABELS
from core.phones import InvalidPhone, normalize_phone

_SIP = re.compile(r"^sip:[^@\s]+@[A-Za-z0-9.-]+(:\d+)?(;[^\s]*)?$")
_CLIENT = re.compile(r"^client:[A-Za-z0-9_.-]{1,100}$")


class AgentError(ValueError):
    """Bad input for an operator's settings; the message is for people."""


def clean_device(raw: str) -> str:
    """An E.164 number, a ``sip:`` URI, or ``client:<identity>`` (browser softphone)."""
    text = raw.strip()
    if text.startswith("sip:"):
        if not _SIP.match(text):
            raise AgentError(f"SIP 地址格式错误：{text!r}（应如 sip:8001@pbx.example.cn）")
        return text
    if text.startswith("client:"):
        if not _CLIENT.match(text):
            raise AgentError("浏览器坐席标识只能包含字母、数字、点、下划线和连字符")
        return text
    try:
        return normalize_phone(text)
    except InvalidPhone as exc:
        raise AgentError(f"接听设备应为手机/座机号码、sip: 地址或 client: 标识：{exc}") from None


def clean_skills(raw: str | list[str]) -> str:
    """Service areas by code or Chinese label (要素保障, 政策咨询 …), comma-separated."""
    parts = raw if isinstance(raw, list) else re.split(r"[,，、\s]+", raw)
    by_label = {label: code for code, label in CATEGORY_LABELS.items()}
    chosen: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        code = part if part in AREAS else by_label.get(part)
        if code is None:
            names = "、".join(f"{CATEGORY_LABELS[a]}（{a}）" for a in AREAS)
            raise AgentError(f"未知的服务领域“{part}”，可选：{names}")
        if code not in chosen:
            chosen.append(code)
    if not chosen:
        raise AgentError("至少选择一个服务领域")
    return ",".join(a for a in AREAS if a in chosen)


def skill_labels(skills: str) -> str:
    return "、".join(CATEGORY_LABELS.get(s, s) for s in skills.split(",") if s)


def ensure_agent(session: Session, *, user_id: int, username: str, display_name: str,
                 now: datetime) -> Agent:
    """The operator's row, created (离线, every area) on first use; names kept current."""
    agent = session.scalars(select(Agent).where(Agent.user_id == user_id)).one_or_none()
    if agent is None:
        agent = Agent(user_id=user_id, username=username, display_name=display_name,
                      state=State.OFFLINE.value, state_since=now, skills=",".join(AREAS))
        session.add(agent)
        session.flush()
    elif (agent.username, agent.display_name) != (username, display_name):
        agent.username, agent.display_name = username, display_name
    return agent


def agent_by_username(session: Session, username: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.username == username)).one_or_none()


def state_of(agent: Agent) -> State:
    return State(agent.state)


def presence_event(agent: Agent) -> dict[str, object]:
    state = state_of(agent)
    return {"type": "presence", "agent_id": agent.id, "state": state.value,
            "label": STATE_LABELS[state], "since": agent.state_since.isoformat(),
            "notice": agent.notice, "wrapup_until":
                agent.wrapup_until.isoformat() if agent.wrapup_until else None}


def move(agent: Agent, trigger: Trigger, *, runtime: QueueRuntime, now: datetime,
         changes: Changes, notice: str | None = None) -> State:
    """Apply ``trigger`` to ``agent`` (raises ``IllegalTransition`` if it does not apply).

    The caller holds the queue lock. Entering 空闲 sets ``idle_since`` (the longest-idle
    operator is offered the next caller); entering 话后整理 sets its end and asks for a timer;
    leaving a call clears the current offer.
    """
    before = state_of(agent)
    after = next_state(before, trigger)
    agent.state = after.value
    agent.state_since = now
    if after == State.IDLE:
        agent.idle_since = now
    if after == State.WRAP_UP:
        until = now + timedelta(seconds=runtime.settings.wrapup_seconds)
        agent.wrapup_until = until
        changes.wrapups.append((agent.id, until))
    elif before == State.WRAP_UP:
        agent.wrapup_until = None
    if after not in (State.RINGING, State.ON_CALL):
        agent.offer_id = None
    told = notice if notice is not None else NOTICES.get(trigger)
    if told is not None or trigger in (Trigger.SIGN_IN, Trigger.RESUME):
        agent.notice, agent.notice_at = told, now
    changes.to_operator(agent.id, presence_event(agent))
    changes.queue_changed()
    return after


def choose(agent: Agent, wanted: State, *, runtime: QueueRuntime, now: datetime,
           changes: Changes) -> State:
    """The operator chooses 空闲, 小休 or 离线 (console or CLI); refused with a reason."""
    trigger = chosen_trigger(state_of(agent), wanted)
    if trigger is None:
        return state_of(agent)
    if wanted == State.IDLE and not agent.device:
        raise PresenceRefused(
            "尚未设置接听设备（手机/座机号码、SIP 地址或浏览器坐席），不能接听来电")
    return move(agent, trigger, runtime=runtime, now=now, changes=changes)
