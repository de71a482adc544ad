"""What the console, the CLI and the jobs ask of the queue (one function per action).

Each takes the session and plain values, takes the queue lock, and returns the
:class:`~callqueue.runtime.Changes` to hand to ``runtime.after_commit`` after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callqueue import agents as agent_moves
from callqueue.agents import AgentError, clean_device, clean_skills, state_of
from callqueue.dispatch import close_wrapup, dispatch
from callqueue.locking import lock_queue
from callqueue.models import (
    Agent,
    EntryKind,
    EntryStatus,
    Offer,
    OfferStatus,
    Outcome,
    QueueEntry,
    WrapUp,
)
from callqueue.offers import operator_status
from callqueue.presence import PresenceRefused, State, Trigger, allows
from callqueue.queue import abandon
from callqueue.runtime import Changes, QueueRuntime
from ivr.models import FINAL_STATUSES, Call

# A placement that has not reached Twilio after this long (its worker or node died) fails.
PLACING_STALE = timedelta(seconds=30)
# A ringing leg whose status callback never came is settled as unanswered after this.
RINGING_GRACE = timedelta(seconds=20)


def _agent(session: Session, agent_id: int) -> Agent:
    lock_queue(session)
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise AgentError("坐席不存在")
    return agent


def set_presence(session: Session, runtime: QueueRuntime, agent_id: int, wanted: State, *,
                 now: datetime, from_console: bool = True) -> Changes:
    """The operator chooses 空闲, 小休 or 离线 (``PresenceRefused`` says why not)."""
    changes = Changes()
    agent = _agent(session, agent_id)
    before = state_of(agent)
    if before == State.WRAP_UP and wanted != State.WRAP_UP:
        close_wrapup(session, agent, now)
    agent_moves.choose(agent, wanted, runtime=runtime, now=now, changes=changes)
    # Signed in from the CLI (scripts): no console to lose. From the console: it is alive.
    agent.seen_at = now if from_console else None
    dispatch(session, runtime, now, changes)
    return changes


def set_device(session: Session, runtime: QueueRuntime, agent_id: int, device: str | None
               ) -> Changes:
    changes = Changes()
    agent = _agent(session, agent_id)
    if device is None or not device.strip():
        if state_of(agent) not in (State.OFFLINE, State.BREAK):
            raise PresenceRefused("请先改为小休或离线，再清除接听设备")
        agent.device = None
    else:
        agent.device = clean_device(device)
    changes.to_operator(agent.id, agent_moves.presence_event(agent))
    changes.queue_changed()
    return changes


def set_skills(session: Session, runtime: QueueRuntime, agent_id: int, skills: str | list[str],
               *, now: datetime) -> Changes:
    changes = Changes()
    agent = _agent(session, agent_id)
    agent.skills = clean_skills(skills)
    changes.queue_changed()
    dispatch(session, runtime, now, changes)
    return changes


def seen(session: Session, agent_id: int, now: datetime) -> None:
    """The operator's console is open (its live stream is connected)."""
    agent = session.get(Agent, agent_id)
    if agent is not None:
        agent.seen_at = now


@dataclass(frozen=True)
class WrapUpInput:
    outcome: Outcome
    article_id: int | None = None
    case_id: int | None = None
    note: str | None = None


def record_wrapup(session: Session, runtime: QueueRuntime, agent_id: int, entry_id: int,
                  given: WrapUpInput, *, now: datetime) -> tuple[WrapUp, Changes]:
    """话后整理: the outcome of a call the operator answered, into the call log; ends the
    operator's wrap-up time if they are still in it."""
    changes = Changes()
    agent = _agent(session, agent_id)
    entry = session.get(QueueEntry, entry_id)
    if entry is None or entry.agent_id != agent.id:
        raise AgentError("只能为自己接听的来电填写话后结果")
    if given.outcome == Outcome.INSTANT and given.article_id is None:
        raise AgentError("即时答复需要引用一篇知识库条目")
    note = (given.note or "").strip()[:2000] or None
    wrapup = session.scalars(select(WrapUp).where(WrapUp.entry_id == entry.id)).one_or_none()
    if wrapup is None:
        wrapup = WrapUp(entry_id=entry.id, agent_id=agent.id, recorded_at=now,
                        outcome=given.outcome.value)
        session.add(wrapup)
    wrapup.outcome = given.outcome.value
    wrapup.article_id = given.article_id if given.outcome == Outcome.INSTANT else None
    wrapup.case_id = given.case_id
    wrapup.note = note
    wrapup.recorded_at = now
    wrapup.call_id = entry.call_id or session.scalar(
        select(Call.id).where(Call.call_sid == entry.call_sid))
    if state_of(agent) == State.WRAP_UP and agent.last_entry_id == entry.id:
        close_wrapup(session, agent, now)
        agent_moves.move(agent, Trigger.FINISH_WRAP_UP, runtime=runtime, now=now,
                         changes=changes)
        dispatch(session, runtime, now, changes)
    changes.to_operator(agent.id, {"type": "wrapup", "entry_id": entry.id,
                                   "outcome": wrapup.outcome})
    return wrapup, changes


def close_callback(session: Session, runtime: QueueRuntime, entry_id: int, *, now: datetime,
                   reached: bool) -> Changes:
    """An operator closes a callback request by hand (reached another way, or given up)."""
    changes = Changes()
    lock_queue(session)
    entry = session.get(QueueEntry, entry_id)
    if entry is None or entry.kind != EntryKind.CALLBACK:
        raise AgentError("回电任务不存在")
    if entry.status != EntryStatus.WAITING:
        raise AgentError("该回电任务正在处理或已结束")
    entry.status = (EntryStatus.COMPLETED if reached else EntryStatus.FAILED).value
    entry.ended_at = now
    entry.left_reason = "closed"
    changes.queue_changed()
    return changes


def end_wrapup(session: Session, runtime: QueueRuntime, agent_id: int, *, now: datetime
               ) -> Changes:
    """The wrap-up timer: 空闲 again if the wrap-up time is over (idempotent)."""
    changes = Changes()
    agent = _agent(session, agent_id)
    if state_of(agent) == State.WRAP_UP and agent.wrapup_until is not None \
            and agent.wrapup_until <= now:
        close_wrapup(session, agent, agent.wrapup_until)
        agent_moves.move(agent, Trigger.FINISH_WRAP_UP, runtime=runtime, now=now,
                         changes=changes)
    dispatch(session, runtime, now, changes)
    return changes


def tick(session: Session, runtime: QueueRuntime, *, now: datetime) -> Changes:
    """The periodic safety net: everything time-based, and whatever a lost callback, a lost
    job or a dead node left behind. Idempotent; runs every few seconds on one node."""
    changes = Changes()
    lock_queue(session)
    # Placements that never reached Twilio (the job or the node died): the next operator.
    for offer in session.scalars(select(Offer).where(
            Offer.status == OfferStatus.PLACING.value,
            Offer.created_at < now - PLACING_STALE)).all():
        offer.status, offer.ended_at, offer.error = OfferStatus.FAILED.value, now, "never placed"
        agent = session.get(Agent, offer.agent_id)
        if agent is not None and agent.offer_id == offer.id \
                and allows(agent.state, Trigger.OFFER_FAILED):
            agent_moves.move(agent, Trigger.OFFER_FAILED, runtime=runtime, now=now,
                             changes=changes)
        if offer.entry.status == EntryStatus.OFFERED:
            offer.entry.status = EntryStatus.WAITING.value
    # Devices still "ringing" long after the ring time: their callback was lost.
    ring_limit = timedelta(seconds=runtime.settings.ring_seconds) + RINGING_GRACE
    for offer in session.scalars(select(Offer).where(
            Offer.status == OfferStatus.RINGING.value,
            Offer.created_at < now - ring_limit)).all():
        if offer.operator_call_sid:
            changes.cancel.append(offer.operator_call_sid)
        changes.merge(operator_status(session, runtime, offer.id, call_status="no-answer",
                                      call_sid=offer.operator_call_sid or "", now=now))
    # Callers whose call has ended (the call log says so) but who are still in the line.
    gone = session.scalars(
        select(QueueEntry).join(Call, Call.call_sid == QueueEntry.call_sid).where(
            QueueEntry.kind == EntryKind.CALL.value,
            QueueEntry.status.in_((EntryStatus.WAITING.value, EntryStatus.OFFERED.value)),
            Call.status.in_(sorted(FINAL_STATUSES)))).all()
    for entry in gone:
        abandon(session, runtime, entry, now, changes)
    # Operators whose console has been closed for a while are signed out when not on a call.
    quiet = now - timedelta(seconds=runtime.settings.heartbeat_seconds)
    for agent in session.scalars(select(Agent).where(
            Agent.state.in_((State.IDLE.value, State.BREAK.value, State.WRAP_UP.value)),
            Agent.seen_at.is_not(None), Agent.seen_at < quiet)).all():
        if state_of(agent) == State.WRAP_UP:
            close_wrapup(session, agent, now)
        agent_moves.move(agent, Trigger.CONSOLE_LOST, runtime=runtime, now=now,
                         changes=changes)
    dispatch(session, runtime, now, changes)
    return changes
