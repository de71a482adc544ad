"""The operator's leg: the device rung for an offer, answered, bridged to the caller, ended.

Twilio's callbacks for this leg can repeat and arrive out of order; each function looks at
the offer's own status first and does nothing for an event that no longer applies (the
presence state machine refuses the rest). Every function holds the queue lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from callqueue import agents as agent_moves
from callqueue.dispatch import dispatch
from callqueue.locking import lock_queue
from callqueue.models import Agent, EntryKind, EntryStatus, Offer, OfferStatus, QueueEntry
from callqueue.presence import State, Trigger, allows
from callqueue.queue import end_call, entry_for_call, queue_name, seconds_between
from callqueue.runtime import Changes, QueueRuntime
from ivr import calllog
from ivr.outbound import dial_target


def _offer(session: Session, offer_id: int) -> Offer | None:
    lock_queue(session)
    return session.get(Offer, offer_id)


def _agent_on(session: Session, offer: Offer) -> Agent | None:
    """The offer's operator, if this offer is still the one they are busy with."""
    agent = session.get(Agent, offer.agent_id)
    return agent if agent is not None and agent.offer_id == offer.id else None


def _move(session: Session, runtime: QueueRuntime, offer: Offer, trigger: Trigger,
          now: datetime, changes: Changes) -> None:
    agent = _agent_on(session, offer)
    if agent is not None and allows(agent.state, trigger):
        agent_moves.move(agent, trigger, runtime=runtime, now=now, changes=changes)


def _back_in_line(entry: QueueEntry, changes: Changes) -> None:
    """The offer did not work out: the entry waits again, at its place."""
    if entry.status == EntryStatus.OFFERED:
        entry.status = EntryStatus.WAITING.value
    changes.queue_changed()


def placed(session: Session, runtime: QueueRuntime, offer_id: int, operator_call_sid: str,
           now: datetime) -> Changes:
    """Twilio accepted the request to ring the device."""
    changes = Changes()
    offer = _offer(session, offer_id)
    if offer is None:
        return changes
    if offer.operator_call_sid is None:
        offer.operator_call_sid = operator_call_sid
    if offer.status == OfferStatus.PLACING:
        offer.status = OfferStatus.RINGING.value
        changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                             "status": "ringing", "label": "振铃"})
    elif offer.status in (OfferStatus.CANCELLED, OfferStatus.DROPPED):
        changes.cancel.append(operator_call_sid)  # the caller left while we asked Twilio
    return changes


def place_failed(session: Session, runtime: QueueRuntime, offer_id: int, error: str,
                 now: datetime) -> Changes:
    """The REST request to ring the device failed: the caller goes to the next operator."""
    changes = Changes()
    offer = _offer(session, offer_id)
    if offer is None or offer.status != OfferStatus.PLACING:
        return changes
    offer.status, offer.error, offer.ended_at = OfferStatus.FAILED.value, error[:200], now
    _move(session, runtime, offer, Trigger.OFFER_FAILED, now, changes)
    _back_in_line(offer.entry, changes)
    dispatch(session, runtime, now, changes)
    return changes


# Twilio CallStatus of the operator's leg → what it means for a ringing offer.
_UNANSWERED = {"no-answer": (OfferStatus.NO_ANSWER, Trigger.NO_ANSWER),
               "busy": (OfferStatus.NO_ANSWER, Trigger.NO_ANSWER),
               "failed": (OfferStatus.FAILED, Trigger.DEVICE_FAILED)}


def operator_status(session: Session, runtime: QueueRuntime, offer_id: int, *,
                    call_status: str, call_sid: str, now: datetime) -> Changes:
    """The status callback of the operator's leg."""
    changes = Changes()
    offer = _offer(session, offer_id)
    if offer is None:
        return changes
    if offer.operator_call_sid is None and call_sid:
        offer.operator_call_sid = call_sid
    status = OfferStatus(offer.status)
    if call_status in ("queued", "initiated", "ringing"):
        if status == OfferStatus.PLACING:
            offer.status = OfferStatus.RINGING.value
        return changes
    if call_status in _UNANSWERED and status in (OfferStatus.PLACING, OfferStatus.RINGING):
        offer_status, trigger = _UNANSWERED[call_status]
        offer.status, offer.ended_at = offer_status.value, now
        offer.error = call_status
        _move(session, runtime, offer, trigger, now, changes)
        _back_in_line(offer.entry, changes)
        changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                             "status": offer.status, "label": "未接听"})
        dispatch(session, runtime, now, changes)
        return changes
    if call_status in ("completed", "canceled"):
        # The leg ended; anything the <Dial> action did not settle is settled here.
        finish(session, runtime, offer, dial_status=None, duration=None, now=now,
               changes=changes)
    return changes


class AnswerKind(StrEnum):
    QUEUE = "queue"  # dequeue the caller from the area's Twilio queue
    DIAL = "dial"  # a callback: dial the caller's number
    GONE = "gone"  # the caller is no longer there


@dataclass
class AnswerPlan:
    kind: AnswerKind
    offer_id: int
    area: str = "other"
    waited_seconds: int = 0
    queue: str = ""
    dial: str = ""
    callback: bool = False
    changes: Changes = field(default_factory=Changes)
    # Whom the operator's leg connects: the live transcript is the caller's call's.
    caller_call_sid: str = ""
    agent_id: int | None = None


def answered(session: Session, runtime: QueueRuntime, offer_id: int, *, call_sid: str,
             now: datetime) -> AnswerPlan:
    """The operator picked up: connect them to the caller (or say the caller is gone)."""
    changes = Changes()
    offer = _offer(session, offer_id)
    if offer is None:
        return AnswerPlan(AnswerKind.GONE, offer_id, changes=changes)
    if offer.operator_call_sid is None and call_sid:
        offer.operator_call_sid = call_sid
    entry = offer.entry
    waited = max(0, round((now - entry.enqueued_at).total_seconds()))
    plan = AnswerPlan(AnswerKind.GONE, offer.id, area=entry.area, waited_seconds=waited,
                      callback=entry.kind == EntryKind.CALLBACK, changes=changes,
                      caller_call_sid=entry.call_sid, agent_id=offer.agent_id)
    if offer.status in (OfferStatus.PLACING, OfferStatus.RINGING):
        if entry.status != EntryStatus.OFFERED:  # the caller hung up or left meanwhile
            offer.status, offer.ended_at = OfferStatus.DROPPED.value, now
            _move(session, runtime, offer, Trigger.DROPPED, now, changes)
            changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                                 "status": "caller_gone",
                                                 "label": "来电已挂断"})
            dispatch(session, runtime, now, changes)
            return plan
        offer.status, offer.answered_at = OfferStatus.ANSWERED.value, now
        _move(session, runtime, offer, Trigger.ANSWER, now, changes)
        changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                             "status": "answered", "label": "通话中"})
        if entry.kind == EntryKind.CALLBACK:
            entry.status = EntryStatus.CONNECTED.value
            entry.attempts += 1
        changes.queue_changed()
    elif offer.status != OfferStatus.ANSWERED:  # a late or repeated request
        return plan
    if entry.kind == EntryKind.CALLBACK:
        plan.kind = AnswerKind.DIAL
        plan.dial = dial_target(entry.from_number, runtime.settings.dial_template)
    else:
        plan.kind, plan.queue = AnswerKind.QUEUE, queue_name(entry.area)
    return plan


@dataclass
class Bridged:
    waited_seconds: int
    changes: Changes = field(default_factory=Changes)


def bridged(session: Session, runtime: QueueRuntime, offer_id: int, *,
            caller_call_sid: str, now: datetime) -> Bridged:
    """Twilio is about to connect a queued caller to the operator of ``offer_id`` (the
    ``<Queue url>`` request, on the caller's leg). Twilio takes the head of the area's
    queue: if that is not the caller this offer was made for (two operators answered in
    the other order), the two offers swap callers."""
    changes = Changes()
    offer = _offer(session, offer_id)
    actual = entry_for_call(session, caller_call_sid)
    if offer is None or actual is None:
        return Bridged(0, changes)
    if actual.status not in (EntryStatus.WAITING, EntryStatus.OFFERED):
        # A repeated (or late) request: connected already, or the caller is gone.
        answered = actual.answered_at or now
        return Bridged(max(0, round((answered - actual.enqueued_at).total_seconds())), changes)
    if offer.entry_id != actual.id:
        _swap(session, offer, actual)
    actual.status = EntryStatus.CONNECTED.value
    actual.answered_at = now
    actual.agent_id = offer.agent_id
    offer.status = OfferStatus.BRIDGED.value
    waited = seconds_between(actual.enqueued_at, now)
    actual.wait_seconds = waited
    call = calllog.get_or_create_call(session, actual.call_sid, now=actual.enqueued_at,
                                      from_number=actual.from_number)
    call.reached_operator = True
    call.operator_answer_seconds = waited
    actual.call_id = call.id
    changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                         "status": "bridged", "label": "已接通",
                                         "entry_id": actual.id, "call_sid": actual.call_sid})
    changes.to_call(actual.call_sid, {"type": "call", "status": "connected",
                                      "agent_id": offer.agent_id})
    changes.queue_changed()
    return Bridged(waited, changes)


def _swap(session: Session, offer: Offer, actual: QueueEntry) -> None:
    """``offer`` got ``actual`` instead of its own entry: the offer made for ``actual``
    (if still live) takes ``offer``'s entry; otherwise that entry waits again."""
    mine = offer.entry
    other = session.scalars(select(Offer).where(
        Offer.entry_id == actual.id, Offer.id != offer.id,
        Offer.status.in_((OfferStatus.PLACING.value, OfferStatus.RINGING.value,
                          OfferStatus.ANSWERED.value)))).first()
    offer.entry_id = actual.id
    offer.entry = actual
    if other is not None:
        other.entry_id = mine.id
        other.entry = mine
    elif mine.status == EntryStatus.OFFERED:
        mine.status = EntryStatus.WAITING.value


def dialed(session: Session, runtime: QueueRuntime, offer_id: int, *, dial_status: str,
           duration: int | None, now: datetime) -> Changes:
    """The ``<Dial>`` on the operator's leg ended: the conversation (or the attempt) is over."""
    changes = Changes()
    offer = _offer(session, offer_id)
    if offer is not None:
        finish(session, runtime, offer, dial_status=dial_status, duration=duration, now=now,
               changes=changes)
    return changes


def finish(session: Session, runtime: QueueRuntime, offer: Offer, *, dial_status: str | None,
           duration: int | None, now: datetime, changes: Changes) -> None:
    """Settle an offer whose operator leg is over (idempotent)."""
    status = OfferStatus(offer.status)
    entry = offer.entry
    if status == OfferStatus.BRIDGED:
        end_call(entry, now, duration)
        _end_conversation(session, runtime, offer, entry, now, changes)
        return
    if status == OfferStatus.ANSWERED and entry.kind == EntryKind.CALLBACK:
        if dial_status == "completed":
            entry.answered_at = now - timedelta(seconds=duration or 0)
            entry.agent_id = offer.agent_id
            entry.wait_seconds = seconds_between(entry.enqueued_at, entry.answered_at)
            end_call(entry, now, duration)
            _end_conversation(session, runtime, offer, entry, now, changes)
            return
        _callback_not_reached(runtime, entry, now)
    elif status == OfferStatus.ANSWERED:
        _back_in_line(entry, changes)
    elif status in (OfferStatus.PLACING, OfferStatus.RINGING):
        # Ended before anyone answered (e.g. cancelled): settled like an unanswered ring.
        _back_in_line(entry, changes)
    else:
        return
    offer.status, offer.ended_at = OfferStatus.DROPPED.value, now
    _move(session, runtime, offer, Trigger.DROPPED, now, changes)
    changes.queue_changed()
    dispatch(session, runtime, now, changes)


def _callback_not_reached(runtime: QueueRuntime, entry: QueueEntry, now: datetime) -> None:
    """The caller did not answer the callback: try again later, or give up."""
    if entry.attempts >= runtime.settings.callback_max_attempts:
        entry.status, entry.ended_at = EntryStatus.FAILED.value, now
        entry.left_reason = "unreached"
        return
    entry.status = EntryStatus.WAITING.value
    entry.next_attempt_at = now + timedelta(minutes=runtime.settings.callback_retry_minutes)


def _end_conversation(session: Session, runtime: QueueRuntime, offer: Offer,
                      entry: QueueEntry, now: datetime, changes: Changes) -> None:
    offer.status, offer.ended_at = OfferStatus.ENDED.value, now
    agent = _agent_on(session, offer)
    if agent is not None and agent.state == State.ON_CALL:
        agent.last_entry_id = entry.id
        agent_moves.move(agent, Trigger.HANG_UP, runtime=runtime, now=now, changes=changes)
    changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                         "status": "ended", "label": "通话结束",
                                         "entry_id": entry.id})
    changes.to_call(entry.call_sid, {"type": "call", "status": "ended"})
    changes.queue_changed()
    dispatch(session, runtime, now, changes)


def caller_of(session: Session, offer_id: int) -> str | None:
    """The caller's CallSid of an offer (after any swap at connection time)."""
    offer = session.get(Offer, offer_id)
    return offer.entry.call_sid if offer is not None else None
