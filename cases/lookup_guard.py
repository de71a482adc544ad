"""Limits on key 9's look-up of another phone's case (the contact phone's last four digits).

Without them one call could guess all 10,000 endings: the look-up node allows three wrong
tries, and pressing 9 again started over. Every verification is charged *before* the digits
are compared, to three counters at once, each in a 24-hour window:

- the call (``CallSid``): :data:`MAX_PER_CALL` tries in all, however often 9 is pressed;
- the case number typed: after :data:`MAX_PER_CASE` failures from any phone, the case is read
  only to a registered phone (its contact phone or its enterprise's, without digits) or by an
  operator in the console, and the centre (supervisors) is notified once;
- the caller's number: :data:`MAX_PER_CALLER` tries, so new calls from one number don't help.

A number that does not exist is counted, refused and notified exactly like one that does, so
neither the prompts nor the work done tell them apart. A right answer gives its charge back.
On PostgreSQL the counters are written in autocommit on the webhooks' own pool
(``Database.run_quick``): they hold no lock past the statement and survive whatever the
request does afterwards. On SQLite they join the request's transaction (a second connection
would wait for the write lock that transaction holds). When Redis is down a step runs twice
(``ivr.service``): its try is then charged twice, which errs on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, delete, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime
from core.dialect import upsert

WINDOW = timedelta(hours=24)
MAX_PER_CALL = 5
MAX_PER_CASE = 5
MAX_PER_CALLER = 10
# How a withheld number is counted: all of them share one counter.
WITHHELD = "withheld"


class LookupCounter(Base):
    """Key-9 verifications charged to one call, case number or caller in the current window."""

    __tablename__ = "lookup_counters"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # call, case, caller
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    tries: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Charge:
    """The counts after charging one verification."""

    call: int
    case: int
    caller: int

    @property
    def case_locked(self) -> bool:
        return self.case > MAX_PER_CASE

    @property
    def call_or_caller_spent(self) -> bool:
        return self.call > MAX_PER_CALL or self.caller > MAX_PER_CALLER

    @property
    def case_just_locked(self) -> bool:
        """This try was the last one the case number allows (notify the centre now)."""
        return self.case == MAX_PER_CASE


def _subjects(call_sid: str, caller: str, number: str) -> dict[str, str]:
    return {"call": call_sid[:64] or "-", "case": number[:64] or "-",
            "caller": caller[:64] or WITHHELD}


def _bump(conn: Connection, scope: str, subject: str, now: datetime, by: int = 1) -> int:
    expired = LookupCounter.window_start <= now - WINDOW
    stmt = upsert(
        conn, LookupCounter,
        {"scope": scope, "subject": subject, "window_start": now, "tries": by},
        index_elements=[LookupCounter.scope, LookupCounter.subject],
        update={"tries": case((expired, by), else_=LookupCounter.tries + by),
                "window_start": case((expired, literal(now, UtcDateTime())),
                                     else_=LookupCounter.window_start)},
    ).returning(LookupCounter.tries)
    return int(conn.execute(stmt).scalar_one())


def _count(conn: Connection, scope: str, subject: str, now: datetime) -> int:
    tries = conn.scalar(select(LookupCounter.tries).where(
        (LookupCounter.scope == scope) & (LookupCounter.subject == subject)
        & (LookupCounter.window_start > now - WINDOW)))
    return int(tries or 0)


def spent(conn: Connection, *, call_sid: str, caller: str, now: datetime) -> bool:
    """Whether this call or this caller has used up its tries (ask for no number then)."""
    subjects = _subjects(call_sid, caller, "")
    return (_count(conn, "call", subjects["call"], now) >= MAX_PER_CALL
            or _count(conn, "caller", subjects["caller"], now) >= MAX_PER_CALLER)


def charge(conn: Connection, *, call_sid: str, caller: str, number: str,
           now: datetime) -> Charge:
    """Charge one verification to the call, the case number and the caller."""
    subjects = _subjects(call_sid, caller, number)
    counts = {scope: _bump(conn, scope, subject, now) for scope, subject in subjects.items()}
    return Charge(**counts)


def refund(conn: Connection, *, call_sid: str, caller: str, number: str,
           now: datetime) -> None:
    """A right answer: give its charge back (a case's own contact never locks it).

    Expired counters are pruned on the way.
    """
    for scope, subject in _subjects(call_sid, caller, number).items():
        conn.execute(update(LookupCounter).where(
            (LookupCounter.scope == scope) & (LookupCounter.subject == subject)
            & (LookupCounter.tries > 0)).values(tries=LookupCounter.tries - 1))
    conn.execute(delete(LookupCounter).where(LookupCounter.window_start <= now - WINDOW))
