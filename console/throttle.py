"""Login throttling: too many failures for a username or a client address lock sign-in.

One counter row per username and per address, kept in the database so every web worker
sees the same counts. An attempt is charged *before* its password is checked, in a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so however many guesses arrive at
once, no more than the limit are ever checked; a successful sign-in gives its charge back.
Each charge runs in a transaction of its own whose first statement writes: on SQLite it
waits for the write lock instead of failing on a stale read snapshot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from console.models import LoginCounter
from core.db import UtcDateTime

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
# Higher: a whole office can share one address behind the government network's NAT.
MAX_FAILURES_PER_IP = 30


def _subject(value: str) -> str:
    return value.lower()[:64] or "-"


def _bump(session: Session, scope: str, subject: str, now: datetime) -> int:
    """Count one more failure for (scope, subject); its count in the current window."""
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(LoginCounter).values(scope=scope, subject=subject, window_start=now,
                                       failures=1)
    # Right-hand sides of SET all see the row as it was: the window restarts when it is over.
    expired = LoginCounter.window_start <= now - WINDOW
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginCounter.scope, LoginCounter.subject],
        set_={
            "failures": case((expired, 1), else_=LoginCounter.failures + 1),
            "window_start": case((expired, literal(now, UtcDateTime())),
                                 else_=LoginCounter.window_start),
        },
    ).returning(LoginCounter.failures)
    return int(session.execute(stmt).scalar_one())


def charge(session: Session, username: str, ip: str, now: datetime) -> bool:
    """Charge one attempt to the username and the address and commit; False if over a limit.

    Call before checking the password; a refused attempt stays charged.
    """
    user_failures = _bump(session, "user", _subject(username), now)
    ip_failures = _bump(session, "ip", _subject(ip), now)
    session.commit()
    return user_failures <= MAX_FAILURES_PER_USERNAME and ip_failures <= MAX_FAILURES_PER_IP


def refund(session: Session, username: str, ip: str, now: datetime) -> None:
    """A successful sign-in: the username's count restarts, the address gets its charge back.

    Expired counters are pruned on the way (they would restart anyway).
    """
    session.execute(delete(LoginCounter).where(
        (LoginCounter.scope == "user") & (LoginCounter.subject == _subject(username))))
    session.execute(update(LoginCounter).where(
        (LoginCounter.scope == "ip") & (LoginCounter.subject == _subject(ip))
        & (LoginCounter.failures > 0)).values(failures=LoginCounter.failures - 1))
    session.execute(delete(LoginCounter).where(LoginCounter.window_start <= now - WINDOW))
