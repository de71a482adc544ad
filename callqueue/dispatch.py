"""Distribution: the longest-idle available operator with the skill gets the caller at the
head of the queue (docs/queue.md, "Distribution").

Callers and callback requests wait in one line ordered by their place (a callback keeps the
place of the call it came from). Walking it from the head, each is offered to the operator
who has been 空闲 longest among those whose skills include its area, whose device is set,
and who did not fail to answer it just now; a caller no idle operator can take does not
hold up the callers behind it. The caller holds the queue lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from callqueue import agents as agent_moves
from callqueue.models import Agent, EntryKind, EntryStatus, Offer, OfferStatus, QueueEntry
from callqueue.presence import ON_DUTY, State, Trigger
from callqueue.runtime import Changes, QueueRuntime

# An operator who failed to take an entry (no answer, device or REST failure) is not offered
# the same entry again for this long: the next operator is tried first.
RETRY_SAME_OPERATOR_AFTER = timedelta(minutes=5)


def finish_expired_wrapups(session: Session, runtime: QueueRuntime, now: datetime,
                           changes: Changes) -> None:
    """Operators whose 话后整理 time is over are 空闲 again."""
    done = session.scalars(select(Agent).where(Agent.state == State.WRAP_UP.value,
                                               Agent.wrapup_until <= now)).all()
    for agent in done:
        close_wrapup(session, agent, agent.wrapup_until or now)
        agent_moves.move(agent, Trigger.FINISH_WRAP_UP, runtime=runtime, now=now,
                         changes=changes)


def close_wrapup(session: Session, agent: Agent, at: datetime) -> None:
    """Count the wrap-up time of the call the operator was wrapping up (for AHT)."""
    if agent.last_entry_id is None:
        return
    entry = session.get(QueueEntry, agent.last_entry_id)
    if entry is not None and entry.ended_at is not None and entry.wrapup_seconds is None:
        entry.wrapup_seconds = max(0, round((at - entry.ended_at).total_seconds()))


def idle_operators(session: Session) -> list[Agent]:
    """Operators who can be offered a caller now, longest idle first."""
    return list(session.scalars(
        select(Agent).where(Agent.state == State.IDLE.value, Agent.device.is_not(None))
        .order_by(Agent.idle_since.asc(), Agent.id.asc())))


def waiting_line(session: Session, now: datetime, areas: frozenset[str] | None = None,
                 limit: int | None = None) -> list[QueueEntry]:
    """Entries waiting for an operator, head first: callers, and callbacks that are due
    (only those of ``areas``, at most ``limit``, when given)."""
    query = select(QueueEntry).where(
        QueueEntry.status == EntryStatus.WAITING.value,
        or_(QueueEntry.kind == EntryKind.CALL.value,
            QueueEntry.next_attempt_at.is_(None), QueueEntry.next_attempt_at <= now))
    if areas is not None:
        query = query.where(QueueEntry.area.in_(sorted(areas)))
    query = query.order_by(QueueEntry.place_at, QueueEntry.id)
    return list(session.scalars(query.limit(limit) if limit is not None else query))


def _recently_failed(session: Session, entry_ids: list[int], now: datetime
                     ) -> set[tuple[int, int]]:
    if not entry_ids:
        return set()
    rows = session.execute(select(Offer.entry_id, Offer.agent_id).where(
        Offer.entry_id.in_(entry_ids),
        Offer.status.in_((OfferStatus.NO_ANSWER.value, OfferStatus.FAILED.value)),
        Offer.created_at > now - RETRY_SAME_OPERATOR_AFTER)).all()
    return {(row.entry_id, row.agent_id) for row in rows}


def dispatch(session: Session, runtime: QueueRuntime, now: datetime,
             changes: Changes) -> list[Offer]:
    """Offer waiting entries to idle operators; returns the offers made (to be placed)."""
    # One read for both: operators idle, and those whose wrap-up is over (空闲 from now).
    ready = session.scalars(
        select(Agent).where(or_(Agent.state == State.IDLE.value,
                                and_(Agent.state == State.WRAP_UP.value,
                                     Agent.wrapup_until <= now)))).all()
    for agent in ready:
        if agent.state == State.WRAP_UP:
            close_wrapup(session, agent, agent.wrapup_until or now)
            agent_moves.move(agent, Trigger.FINISH_WRAP_UP, runtime=runtime, now=now,
                             changes=changes)
    idle = sorted((a for a in ready if a.device is not None),
                  key=lambda a: (a.idle_since or now, a.id))
    if not idle:
        return []
    # Only the head of the line matters: entries an idle operator can take, a few per
    # operator (an operator may have just failed to take one of them).
    covered = frozenset().union(*(a.skill_set for a in idle))
    line = waiting_line(session, now, covered, limit=4 * len(idle) + 8)
    failed = _recently_failed(session, [e.id for e in line], now) if line else set()
    made: list[Offer] = []
    for entry in line:
        chosen = next((a for a in idle if entry.area in a.skill_set
                       and (entry.id, a.id) not in failed), None)
        if chosen is None:
            continue
        idle.remove(chosen)
        made.append(offer(session, runtime, entry, chosen, now, changes))
        if not idle:
            break
    return made


def offer(session: Session, runtime: QueueRuntime, entry: QueueEntry, agent: Agent,
          now: datetime, changes: Changes) -> Offer:
    """Ring ``agent``'s device for ``entry`` (placed after the commit)."""
    made = Offer(entry_id=entry.id, agent_id=agent.id, status=OfferStatus.PLACING.value,
                 created_at=now)
    session.add(made)
    session.flush()
    entry.status = EntryStatus.OFFERED.value
    agent_moves.move(agent, Trigger.OFFER, runtime=runtime, now=now, changes=changes)
    agent.offer_id = made.id
    changes.place.append(made.id)
    changes.to_operator(agent.id, {"type": "pop", "offer_id": made.id, "entry_id": entry.id,
                                   "call_sid": entry.call_sid, "kind": entry.kind})
    return made


@dataclass(frozen=True)
class Staff:
    """Every operator's state in one light read (no ORM objects): what the ``waitUrl``
    webhook needs to know about them."""

    rows: list[tuple[str, frozenset[str], bool, datetime | None]]

    @classmethod
    def read(cls, session: Session) -> Staff:
        return cls([(r.state, frozenset(r.skills.split(",")), r.device is not None,
                     r.wrapup_until) for r in session.execute(
            select(Agent.state, Agent.skills, Agent.device, Agent.wrapup_until)
            .where(Agent.state != State.OFFLINE.value))])

    def on_duty(self, area: str) -> int:
        duty = {s.value for s in ON_DUTY}
        return sum(1 for state, skills, device, _until in self.rows
                   if state in duty and device and area in skills)

    def idle_skills(self) -> list[frozenset[str]]:
        return [skills for state, skills, device, _until in self.rows
                if state == State.IDLE.value and device]

    def wrapup_overdue(self, now: datetime) -> bool:
        return any(state == State.WRAP_UP.value and until is not None and until <= now
                   for state, _skills, _device, until in self.rows)


def dispatchable(session: Session, area: str | None, now: datetime,
                 staff: Staff | None = None) -> bool:
    """Cheap read: could a dispatch pass do something now (an idle operator for a waiting
    caller, or a wrap-up overdue)? Lets the ``waitUrl`` webhook heal a stalled queue
    (a lost job, Redis away) without taking the lock on every request."""
    staff = staff or Staff.read(session)
    if staff.wrapup_overdue(now):
        return True
    skills = staff.idle_skills()
    if not skills:
        return False
    waiting = select(QueueEntry.area).where(and_(
        QueueEntry.status == EntryStatus.WAITING.value,
        or_(QueueEntry.kind == EntryKind.CALL.value, QueueEntry.next_attempt_at.is_(None),
            QueueEntry.next_attempt_at <= now))).distinct()
    areas = set(session.scalars(waiting)) if area is None else {area}
    return any(a in s for a in areas for s in skills)
