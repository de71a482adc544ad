"""The queue right now: who waits, which callbacks are pending, every operator's state.

The shape of ``flask queue status --json`` and the live part of the wallboard (实时监控).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callqueue.models import Agent, EntryKind, EntryStatus, QueueEntry
from callqueue.presence import STATE_LABELS, State


@dataclass(frozen=True)
class Waiting:
    entry_id: int
    call_sid: str
    from_number: str
    area: str
    position: int
    since: datetime
    waited_seconds: int
    status: str


@dataclass(frozen=True)
class Callback:
    entry_id: int
    call_sid: str
    from_number: str
    area: str
    requested_at: datetime
    deadline: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    status: str
    overdue: bool


@dataclass(frozen=True)
class OperatorNow:
    agent_id: int
    username: str
    display_name: str
    state: State
    since: datetime
    seconds_in_state: int
    skills: str


@dataclass(frozen=True)
class QueueStatus:
    at: datetime
    waiting: list[Waiting]
    callbacks: list[Callback]
    operators: list[OperatorNow]

    @property
    def longest_wait(self) -> int:
        return max((w.waited_seconds for w in self.waiting), default=0)

    @property
    def callbacks_overdue(self) -> int:
        return sum(c.overdue for c in self.callbacks)

    def as_json(self) -> dict[str, Any]:
        return {
            "waiting": [{"call_sid": w.call_sid, "area": w.area, "position": w.position,
                         "waited_seconds": w.waited_seconds} for w in self.waiting],
            "callbacks": [{"id": c.entry_id, "call_sid": c.call_sid, "area": c.area,
                           "status": c.status, "requested_at": c.requested_at.isoformat(),
                           "deadline": c.deadline.isoformat() if c.deadline else None,
                           "attempts": c.attempts, "overdue": c.overdue}
                          for c in self.callbacks],
            "operators": [{"username": o.username, "state": o.state.value,
                           "since": o.since.isoformat()} for o in self.operators],
        }


def _seconds(since: datetime, now: datetime) -> int:
    return max(0, round((now - since).total_seconds()))


def queue_status(session: Session, now: datetime) -> QueueStatus:
    """One consistent read of the queue (a few indexed queries, whatever the history)."""
    open_rows = session.scalars(
        select(QueueEntry).where(QueueEntry.status.in_((
            EntryStatus.WAITING.value, EntryStatus.OFFERED.value, EntryStatus.CONNECTED.value)))
        .order_by(QueueEntry.place_at, QueueEntry.id)).all()
    positions: dict[str, int] = defaultdict(int)
    waiting: list[Waiting] = []
    callbacks: list[Callback] = []
    for entry in open_rows:
        if entry.status in (EntryStatus.WAITING, EntryStatus.OFFERED):
            positions[entry.area] += 1
        if entry.kind == EntryKind.CALL:
            if entry.status == EntryStatus.CONNECTED:
                continue
            waiting.append(Waiting(entry.id, entry.call_sid, entry.from_number, entry.area,
                                   positions[entry.area], entry.enqueued_at,
                                   _seconds(entry.enqueued_at, now), entry.status))
        else:
            callbacks.append(Callback(
                entry.id, entry.call_sid, entry.from_number, entry.area, entry.enqueued_at,
                entry.deadline, entry.attempts, entry.next_attempt_at, entry.status,
                entry.deadline is not None and entry.deadline < now))
    operators = [
        OperatorNow(a.id, a.username, a.display_name, State(a.state), a.state_since,
                    _seconds(a.state_since, now), a.skills)
        for a in session.scalars(select(Agent).order_by(Agent.username))]
    return QueueStatus(now, waiting, callbacks, operators)


def state_counts(status: QueueStatus) -> dict[str, int]:
    counts = {STATE_LABELS[s]: 0 for s in State}
    for operator in status.operators:
        counts[STATE_LABELS[operator.state]] += 1
    return counts
