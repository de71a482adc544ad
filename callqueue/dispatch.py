"""Distribution: the longest-idle available operator with the skill gets the caller at the
head of the queue (docs/queue.md, "Distribution").

Callers and callback requests wait in one line ordered by their place (a callback keeps the
place of the call it came from). Walking it from the head, each is offered to the operator
who has been 空闲 longest among those whose skills include its area, whose device is set,
and who did not fail to answer it just now; a caller no idle operator can take does not
hold up the callers behind it. The caller holds the queue lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from callqueue import agents as agent_moves
from callqueue.models import Agent, EntryKind, EntryStatus, Offer, OfferStatus, QueueEntry
from callqueue.presence import State, Trigger
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


def waiting_line(session: Session, now: datetime) -> list[QueueEntry]:
    """Entries waiting for an operator, head first: callers, and callbacks that are due."""
    return list(session.scalars(
        select(QueueEntry).where(
            QueueEntry.status == EntryStatus.WAITING.value,
            or_(QueueEntry.kind == EntryKind.CALL.value,
                QueueEntry.next_attempt_at.is_(None), QueueEntry.next_attempt_at <= now))
        .order_by(QueueEntry.place_at, QueueEntry.id)))


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
    finish_expired_wrapups(session, runtime, now, changes)
    idle = idle_operators(session)
    if not idle:
        return []
    line = waiting_line(session, now)
    failed = _recently_failed(session, [e.id for e in line], now)
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


def dispatchable(session: Session, area: str | None, now: datetime) -> bool:
    """Cheap read: could a dispatch pass do something now (an idle operator for a waiting
    caller, or a wrap-up overdue)? Lets the ``waitUrl`` webhook heal a stalled queue
    (a lost job, Redis away) without taking the lock on every request."""
    overdue = select(Agent.id).where(Agent.state == State.WRAP_UP.value,
                                     Agent.wrapup_until <= now).limit(1)
    if session.scalar(overdue) is not None:
        return True
    idle = select(Agent.skills).where(Agent.state == State.IDLE.value,
                                      Agent.device.is_not(None))
    skills = [set(s.split(",")) for s in session.scalars(idle)]
    if not skills:
        return False
    waiting = select(QueueEntry.area).where(and_(
        QueueEntry.status == EntryStatus.WAITING.value,
        or_(QueueEntry.kind == EntryKind.CALL.value, QueueEntry.next_attempt_at.is_(None),
            QueueEntry.next_attempt_at <= now))).distinct()
    areas = set(session.scalars(waiting)) if area is None else {area}
    return any(a in s for a in areas for s in skills)
