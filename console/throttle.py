"""Login throttling: too many recent failures for a username or an address lock sign-in.

Kept in the database so every web worker process sees the same counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from console.models import LoginAttempt

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
# Higher: a whole office can share one address behind the government network's NAT.
MAX_FAILURES_PER_IP = 30
# Rows older than this are useless to the throttle and are pruned on the way.
KEEP = timedelta(days=30)


def _failures(session: Session, column: InstrumentedAttribute[str], value: str,
              since: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.success.is_(False), LoginAttempt.at > since)
    ) or 0


def is_locked(session: Session, username: str, ip: str, now: datetime) -> bool:
    """True while the username or the address has too many failures in the window.

    A username's count restarts at its last successful sign-in; an address's does not.
    """
    name = username.lower()[:64]
    since = now - WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == name,
                                                LoginAttempt.success.is_(True)))
    user_since = max(since, last_success) if last_success else since
    return (
        _failures(session, LoginAttempt.username, name, user_since) >= MAX_FAILURES_PER_USERNAME
        or _failures(session, LoginAttempt.ip, ip[:64], since) >= MAX_FAILURES_PER_IP
    )


def record_attempt(session: Session, username: str, ip: str, success: bool, now: datetime
                   ) -> None:
    """Remember one attempt and prune rows too old to matter."""
    session.add(LoginAttempt(username=username.lower()[:64], ip=ip[:64], success=success,
                             at=now))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
