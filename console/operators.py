"""Console accounts as the queue's operators (``callqueue`` never reads the accounts table:
the console hands it who someone is)."""

from __future__ import annotations

from datetime import datetime

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
