"""Callers waiting in the queue: Twilio's ``waitUrl`` — position, estimate, what they hear.

The common answer changes nothing and is read in one statement (:func:`wait_read`); when the
caller waited the longest allowed or a dispatch pass could do something, :func:`wait` does
it under the queue lock (docs/queue.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Connection,
    SQLColumnExpression,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from callqueue.dispatch import Staff, dispatch, dispatchable
from callqueue.locking import lock_queue
from callqueue.models import OPEN_STATUSES, Agent, EntryKind, EntryStatus, QueueEntry
from callqueue.presence import ON_DUTY, State
from callqueue.queue import LeaveReason, entry_for_call, leave
from callqueue.runtime import Changes, QueueRuntime

# An estimate needs this many recent answered calls …
ESTIMATE_MIN_SAMPLES = 3
ESTIMATE_SAMPLES = 20
ESTIMATE_WINDOW = timedelta(hours=2)
# … and is not said when it would be longer than this (a wild guess).
ESTIMATE_MAX = timedelta(minutes=30)


class WaitAnswer(StrEnum):
    WAIT = "wait"  # announce position (and estimate), hold music, keys 1 and 2
    CONNECTING = "connecting"  # an operator is being connected: hold music only
    LEAVE = "leave"  # <Leave>: to the Enqueue action (key pressed, timed out, or gone)
    UNKNOWN = "unknown"  # no such caller in the queue: hold music, nothing promised


@dataclass
class WaitInfo:
    answer: WaitAnswer
    position: int | None = None
    estimate_minutes: int | None = None
    waited_seconds: int = 0
    changes: Changes = field(default_factory=Changes)


# Statuses of the entries that count in a position, written into the statement as constants
# (not bound): a plan made for any status (a generic plan) would not use the index of the
# open entries. Literal columns, so they are rendered once with the cached SQL, not again at
# every execution.
def _constants(values: Iterable[str]) -> tuple[ColumnElement[str], ...]:
    return tuple(literal_column(f"'{value}'", String) for value in sorted(values))


_IN_LINE = _constants((EntryStatus.WAITING.value, EntryStatus.OFFERED.value))


def _ahead(ahead: type[QueueEntry], area: SQLColumnExpression[str] | str,
           place_at: SQLColumnExpression[datetime] | datetime,
           entry_id: SQLColumnExpression[int] | int) -> ColumnElement[bool]:
    """``ahead`` counts before the entry of ``area``, ``place_at``, ``entry_id``: same area,
    still waiting or being offered, an earlier place (the earlier entry on a tie)."""
    return and_(ahead.area == area, ahead.status.in_(_IN_LINE),
                or_(ahead.place_at < place_at,
                    and_(ahead.place_at == place_at, ahead.id < entry_id)))


def position_of(session: Session, entry: QueueEntry) -> int:
    """1 for the next caller of the area: entries of the area still waiting or being
    offered whose place is before this one's, plus one."""
    ahead = session.scalar(select(func.count()).select_from(QueueEntry).where(
        _ahead(QueueEntry, entry.area, entry.place_at, entry.id)))
    return int(ahead or 0) + 1


def recent_handling(session: Session | Connection, area: str, now: datetime) -> float | None:
    """Mean handling time (talk + wrap-up, seconds) of the area's last 20 answered calls of
    the past two hours; None with fewer than 3."""
    rows = session.execute(
        select(QueueEntry.talk_seconds, QueueEntry.wrapup_seconds)
        .where(QueueEntry.kind == EntryKind.CALL.value, QueueEntry.area == area,
               QueueEntry.status == EntryStatus.COMPLETED.value,
               QueueEntry.enqueued_at >= now - ESTIMATE_WINDOW,
               QueueEntry.talk_seconds.is_not(None))
        .order_by(QueueEntry.enqueued_at.desc()).limit(ESTIMATE_SAMPLES)).all()
    if len(rows) < ESTIMATE_MIN_SAMPLES:
        return None
    return sum((r.talk_seconds or 0) + (r.wrapup_seconds or 0) for r in rows) / len(rows)


def estimate(position: int, handling: float | None, staff: int) -> int | None:
    """Minutes until an operator answers (docs/queue.md): position × mean handling time ÷
    operators on duty for the area, rounded up. None — say nothing — without enough recent
    calls, with nobody on duty, or above 30 minutes (a wild guess)."""
    if handling is None or not staff:
        return None
    seconds = position * handling / staff
    if seconds > ESTIMATE_MAX.total_seconds():
        return None
    return max(1, math.ceil(seconds / 60))


def _waited(enqueued_at: datetime, now: datetime) -> int:
    return max(0, round((now - enqueued_at).total_seconds()))


def _not_waiting(status: str, waited: int) -> WaitInfo | None:
    """The answer for an entry no longer waiting (being connected, or gone), else None."""
    if status in (EntryStatus.OFFERED, EntryStatus.CONNECTED):
        return WaitInfo(WaitAnswer.CONNECTING, waited_seconds=waited)
    if status != EntryStatus.WAITING:
        return WaitInfo(WaitAnswer.LEAVE, waited_seconds=waited)
    return None


def wait(session: Session, runtime: QueueRuntime, *, call_sid: str, now: datetime) -> WaitInfo:
    """Twilio's ``waitUrl`` request: what the caller hears next while waiting.

    Read-only unless the caller waited the longest allowed (then they leave, to be offered a
    callback or voicemail) or the queue stalled with an operator free (then a dispatch).
    The webhook asks :func:`wait_read` first: this is its answer when that one has none.
    """
    entry = entry_for_call(session, call_sid)
    if entry is None:
        return WaitInfo(WaitAnswer.UNKNOWN)
    waited = _waited(entry.enqueued_at, now)
    not_waiting = _not_waiting(entry.status, waited)
    if not_waiting is not None:
        return not_waiting
    changes = Changes()
    timed_out = waited >= runtime.settings.max_wait_seconds
    staff = Staff.read(session)
    if timed_out or dispatchable(session, entry.area, now, staff):
        # Only read so far: end that transaction so the write starts with the lock
        # (on SQLite a read snapshot cannot turn into a write once another process wrote).
        session.commit()
        if timed_out and leave(session, runtime, call_sid=call_sid,
                               reason=LeaveReason.TIMEOUT, now=now, changes=changes):
            return WaitInfo(WaitAnswer.LEAVE, waited_seconds=waited, changes=changes)
        lock_queue(session)
        dispatch(session, runtime, now, changes)
        session.refresh(entry)
        if entry.status != EntryStatus.WAITING:
            answer = (WaitAnswer.CONNECTING if entry.status in OPEN_STATUSES
                      else WaitAnswer.LEAVE)
            return WaitInfo(answer, waited_seconds=waited, changes=changes)
    position = position_of(session, entry)
    handling = runtime.handling_time(entry.area, now, lambda: recent_handling(
        session, entry.area, now))
    return WaitInfo(WaitAnswer.WAIT, position=position,
                    estimate_minutes=estimate(position, handling, staff.on_duty(entry.area)),
                    waited_seconds=waited, changes=changes)


def _takes(area: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """The operator's skills include ``area``: ``area`` is one of the comma-separated codes,
    as in ``Agent.skill_set`` (the codes of AREAS, with no LIKE wildcard in them)."""
    return (literal(",") + Agent.skills + ",").like(literal("%,") + area + ",%")


# Everything the common waitUrl answer needs, in one statement: the caller's entry, their
# position (only used while the entry waits), the operators on duty for the area (the
# estimate) and whether a dispatch pass could do something (``dispatchable``: a wrap-up
# overdue, or an idle operator with a device who takes the area).
_ahead_alias = aliased(QueueEntry, name="ahead")
_WAITING = select(
    QueueEntry.area, QueueEntry.status, QueueEntry.enqueued_at,
    select(func.count()).select_from(_ahead_alias).where(
        _ahead(_ahead_alias, QueueEntry.area, QueueEntry.place_at, QueueEntry.id))
    .scalar_subquery().label("ahead"),
    select(func.count()).select_from(Agent).where(
        Agent.state.in_(_constants(s.value for s in ON_DUTY)), Agent.device.is_not(None),
        _takes(QueueEntry.area)).scalar_subquery().label("on_duty"),
    or_(exists().where(Agent.state == State.WRAP_UP.value,
                       Agent.wrapup_until <= bindparam("now")),
        exists().where(Agent.state == State.IDLE.value, Agent.device.is_not(None),
                       _takes(QueueEntry.area))).label("dispatch_due"),
).where(QueueEntry.kind == EntryKind.CALL.value, QueueEntry.call_sid == bindparam("call_sid"))


def wait_read(conn: Connection, runtime: QueueRuntime, *, call_sid: str,
              now: datetime) -> WaitInfo | None:
    """What :func:`wait` answers when that answer needs no change, from one read on
    ``conn`` (no transaction, no lock, no ORM objects). None when the request must change
    something — the caller waited the longest allowed, or a dispatch pass could do
    something (:func:`callqueue.dispatch.dispatchable`) — then :func:`wait` does it.
    """
    row = conn.execute(_WAITING, {"call_sid": call_sid, "now": now}).one_or_none()
    if row is None:
        return WaitInfo(WaitAnswer.UNKNOWN)
    waited = _waited(row.enqueued_at, now)
    not_waiting = _not_waiting(row.status, waited)
    if not_waiting is not None:
        return not_waiting
    if waited >= runtime.settings.max_wait_seconds or row.dispatch_due:
        return None
    area: str = row.area
    position = int(row.ahead or 0) + 1
    handling = runtime.handling_time(area, now, lambda: recent_handling(conn, area, now))
    return WaitInfo(WaitAnswer.WAIT, position=position,
                    estimate_minutes=estimate(position, handling, int(row.on_duty or 0)),
                    waited_seconds=waited)
