"""Login throttling: slow down guessing without letting anyone lock out a user who knows
the password.

Failures are counted per *account and address* (``pair``) and per address (``ip``), in the
database so every web worker sees the same counts. A few failures are free; after that each
failure makes the next try from there wait longer — 1 s, 2 s, 4 s … at most 15 minutes for
an account from one address, at most a minute for an address over all accounts (a whole
office can share one address behind the government network's NAT). A try that comes too
early is refused (429 with ``Retry-After``) before its password is checked.

So a guesser gets a handful of tries an hour per account from an address, while the
account's owner, from their own address, is never refused, and at a shared address waits
at most a minute. Nothing locks an account; an administrator can clear an account's counts
at once (``flask users unlock``, or 解除登录限制 on the user's page).

A try is charged *before* its password is checked, in a transaction whose first statement
writes (on SQLite it waits for the write lock instead of failing on a stale snapshot) and
that locks the counter rows (PostgreSQL), so concurrent guesses are serialised: no more
tries than the rule allows are ever checked. A successful sign-in gives its charge back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.models import LoginCounter
from core.dialect import insert_or_ignore

# Counts restart this long after the last charged try.
WINDOW = timedelta(hours=1)
FREE_PER_PAIR = 3
MAX_PAIR_DELAY = timedelta(minutes=15)
FREE_PER_IP = 30
MAX_IP_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until a try is accepted again


def _username(value: str) -> str:
    return value.lower()[:64] or "-"


def _address(value: str) -> str:
    return value.lower()[:63] or "-"


def _rules(username: str, ip: str) -> list[tuple[str, str, str | None, int, timedelta]]:
    user, address = _username(username), _address(ip)
    return [("pair", f"{user}|{address}", user, FREE_PER_PAIR, MAX_PAIR_DELAY),
            ("ip", address, None, FREE_PER_IP, MAX_IP_DELAY)]


def delay_after(failures: int, free: int, cap: timedelta) -> timedelta | None:
    """How long the next try waits after ``failures`` failures (None: not at all)."""
    if failures <= free:
        return None
    return min(timedelta(seconds=2 ** min(failures - free - 1, 20)), cap)


def _row(session: Session, scope: str, subject: str, username: str | None,
         now: datetime) -> LoginCounter:
    session.execute(insert_or_ignore(
        session, LoginCounter,
        {"scope": scope, "subject": subject, "username": username, "window_start": now,
         "failures": 0},
        index_elements=[LoginCounter.scope, LoginCounter.subject]))
    row = session.scalars(
        select(LoginCounter).where(LoginCounter.scope == scope, LoginCounter.subject == subject)
        .with_for_update().execution_options(populate_existing=True)).one()
    if row.window_start <= now - WINDOW:
        row.failures, row.blocked_until, row.window_start = 0, None, now
    return row


def charge(session: Session, username: str, ip: str, now: datetime) -> Verdict:
    """Charge one try to the account at this address and to the address, and commit;
    refused (nothing charged) while either must still wait. Call before checking the
    password; a refused try is not checked."""
    rules = _rules(username, ip)
    rows = [_row(session, scope, subject, user, now) for scope, subject, user, _, _ in rules]
    waits = [(row.blocked_until - now).total_seconds() for row in rows
             if row.blocked_until is not None and row.blocked_until > now]
    if waits:
        session.commit()
        return Verdict(False, max(1, math.ceil(max(waits))))
    for row, (_, _, _, free, cap) in zip(rows, rules, strict=True):
        row.failures += 1
        row.window_start = now
        delay = delay_after(row.failures, free, cap)
        row.blocked_until = now + delay if delay else None
    session.commit()
    return Verdict(True)


def refund(session: Session, username: str, ip: str, now: datetime) -> None:
    """A successful sign-in: the account's count at this address restarts, the address gets
    its charge back. Expired counters are pruned on the way."""
    (_, pair, _, _, _), (_, address, _, free, cap) = _rules(username, ip)
    session.execute(delete(LoginCounter).where(
        (LoginCounter.scope == "pair") & (LoginCounter.subject == pair)))
    row = session.get(LoginCounter, ("ip", address))
    if row is not None and row.failures > 0:
        row.failures -= 1
        delay = delay_after(row.failures, free, cap)
        row.blocked_until = row.window_start + delay if delay else None
    session.execute(delete(LoginCounter).where(LoginCounter.window_start <= now - WINDOW))


def unlock(session: Session, username: str) -> int:
    """An administrator clears every count of the account (at every address); how many."""
    result = session.execute(delete(LoginCounter).where(
        LoginCounter.username == _username(username)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

