"""Console accounts as the queue's operators (``callqueue`` never reads the accounts table:
the console hands it who someone is)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callqueue.agents import agent_by_username, ensure_agent
from callqueue.models import Agent
from console.auth import CENTRE
from console.models import User


class NotAnOperator(ValueError):
    """The account cannot take calls (not a centre account, or disabled)."""


def agent_for(session: Session, user: User, now: datetime) -> Agent:
    """The queue's row of a centre account (created on first use)."""
    if user.role not in CENTRE or not user.active:
        raise NotAnOperator(f"{user.username} 不是可接听来电的中心账号")
    return ensure_agent(session, user_id=user.id, username=user.username,
                        display_name=user.display_name, now=now)


def agent_by_name(session: Session, username: str, now: datetime) -> Agent:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        existing = agent_by_username(session, username)
        if existing is None:
            raise NotAnOperator(f"没有名为 {username} 的用户")
        return existing
    return agent_for(session, user, now)


def operator_accounts(session: Session, now: datetime) -> list[Agent]:
    """Every active operator account's row (created where missing), and any other centre
    account that has one."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    found = []
    for user in users:
        known = user.role == "operator" or agent_by_username(session, user.username) is not None
        if known and user.role in CENTRE:
            found.append(agent_for(session, user, now))
    return found


def simulated_operators(app: Any, http_client: Any, names: list[str]) -> list[str]:
    """``flask call --operator NAME`` (in-process): each NAME an operator account (made in
    the throwaway database if missing) with a simulated device, 空闲; the app's REST client
    is ``http_client`` (the terminal phone's switchboard) and devices are rung in the
    request. Returns the devices, in order."""
    from callqueue import service
    from callqueue.placement import InlinePlacer
    from callqueue.presence import State
    from core.db import db

    runtime = app.extensions["queue_runtime"]
    app.config["TWILIO_HTTP_CLIENT"] = http_client
    runtime.placer = InlinePlacer(runtime, db.session)
    devices = []
    with app.app_context():
        session = db.session()
        for name in names:
            user = session.scalars(select(User).where(User.username == name)).one_or_none()
            if user is None:
                user = User(username=name, display_name=name, role="operator",
                            password_hash="!simulated", active=True)
                session.add(user)
                session.flush()
            agent = agent_for(session, user, runtime.now())
            device = f"client:sim-{name}"
            runtime.commit(session, service.set_device(session, runtime, agent.id, device))
            runtime.commit(session, service.set_presence(session, runtime, agent.id,
                                                         State.IDLE, now=runtime.now(),
                                                         from_console=False))
            devices.append(device)
        db.session.remove()
    return devices
