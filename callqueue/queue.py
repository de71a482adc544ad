"""Callers in the queue: joining, keys, leaving, callbacks (waiting: :mod:`callqueue.waiting`).

Each function is keyed on the caller's ``CallSid`` and idempotent: Twilio may send a request
twice or out of order (docs/decisions.md §3), and the webhook that repeats one gets the
same answer without a second effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from callqueue import agents as agent_moves
from callqueue.dispatch import dispatch
from callqueue.locking import lock_queue
from callqueue.models import (
    AREAS,
    OPEN_STATUSES,
    Agent,
    EntryKind,
    EntryStatus,
    Offer,
    OfferStatus,
    QueueEntry,
)
from callqueue.presence import ON_DUTY, Trigger
from callqueue.runtime import Changes, QueueRuntime


class LeaveReason(StrEnum):
    CALLBACK = "callback"  # pressed 1: 预约回电
    VOICEMAIL = "voicemail"  # pressed 2: leave a voicemail now
    TIMEOUT = "timeout"  # waited the longest allowed: offered a callback or voicemail
    ERROR = "error"  # Twilio could not queue the call


def queue_name(area: str) -> str:
    """The Twilio queue of a service area (operators dequeue from their area's queue)."""
    return f"hotline-{area}"


def clean_area(area: str | None) -> str:
    return area if area in AREAS else "other"


def entry_for_call(session: Session, call_sid: str) -> QueueEntry | None:
    return session.scalars(select(QueueEntry).where(
        QueueEntry.kind == EntryKind.CALL.value, QueueEntry.call_sid == call_sid)).one_or_none()


def callback_for_call(session: Session, call_sid: str) -> QueueEntry | None:
    return session.scalars(select(QueueEntry).where(
        QueueEntry.kind == EntryKind.CALLBACK.value,
        QueueEntry.call_sid == call_sid)).one_or_none()


def on_duty_for(session: Session, area: str) -> list[Agent]:
    """Operators signed in and serving ``area`` (空闲, 振铃, 通话中, 话后整理)."""
    found = session.scalars(select(Agent).where(
        Agent.state.in_([s.value for s in ON_DUTY]), Agent.device.is_not(None)))
    return [a for a in found if area in a.skill_set]


@dataclass
class Joined:
    queued: bool
    queue: str
    entry: QueueEntry
    changes: Changes = field(default_factory=Changes)


def join(session: Session, runtime: QueueRuntime, *, call_sid: str, from_number: str,
         area: str | None, subarea: str | None, now: datetime) -> Joined:
    """A caller who chose an area reaches the service desk in office hours.

    Queued when an operator serving the area is on duty; otherwise not queued at all
    (status ``unavailable``: offered a callback or voicemail at once). A repeated request
    gets the first answer.
    """
    changes = Changes()
    lock_queue(session)
    chosen = clean_area(area)
    existing = entry_for_call(session, call_sid)
    if existing is not None:
        return Joined(existing.status != EntryStatus.UNAVAILABLE, queue_name(existing.area),
                      existing, changes)
    queued = bool(on_duty_for(session, chosen))
    entry = QueueEntry(kind=EntryKind.CALL.value, call_sid=call_sid, from_number=from_number,
                       area=chosen, subarea=subarea, place_at=now, enqueued_at=now,
                       status=(EntryStatus.WAITING if queued else EntryStatus.UNAVAILABLE).value,
                       wait_seconds=None if queued else 0)
    session.add(entry)
    session.flush()
    if queued:
        dispatch(session, runtime, now, changes)
    changes.queue_changed()
    return Joined(queued, queue_name(chosen), entry, changes)


class KeyAnswer(StrEnum):
    LEAVE = "leave"
    AGAIN = "again"  # not a key of the waiting menu: back to waiting


def pressed(session: Session, runtime: QueueRuntime, *, call_sid: str, digits: str,
            now: datetime) -> tuple[KeyAnswer, Changes]:
    """A key pressed while waiting: 1 预约回电 (place kept), 2 voicemail now."""
    reason = {"1": LeaveReason.CALLBACK, "2": LeaveReason.VOICEMAIL}.get(digits.strip()[:1])
    changes = Changes()
    if reason is None:
        return KeyAnswer.AGAIN, changes
    left = leave(session, runtime, call_sid=call_sid, reason=reason, now=now, changes=changes)
    entry = entry_for_call(session, call_sid)
    if left or (entry is not None and entry.status == EntryStatus.LEFT):
        return KeyAnswer.LEAVE, changes
    return KeyAnswer.AGAIN, changes


def leave(session: Session, runtime: QueueRuntime, *, call_sid: str, reason: LeaveReason,
          now: datetime, changes: Changes) -> bool:
    """The caller leaves the queue for ``reason`` (their device offer, if ringing, is
    withdrawn). A callback request is made at once, keeping the caller's place. False when
    the caller is not waiting (already connected, left or gone)."""
    lock_queue(session)
    entry = entry_for_call(session, call_sid)
    if entry is None or entry.status not in (EntryStatus.WAITING, EntryStatus.OFFERED):
        return False
    withdraw_offers(session, runtime, entry, now, changes)
    entry.status = EntryStatus.LEFT.value
    entry.left_reason = reason.value
    entry.ended_at = now
    entry.wait_seconds = seconds_between(entry.enqueued_at, now)
    if reason == LeaveReason.CALLBACK:
        request_callback(session, runtime, call_sid=call_sid, from_number=entry.from_number,
                         area=entry.area, subarea=entry.subarea, now=now, changes=changes,
                         origin=entry)
    changes.queue_changed()
    dispatch(session, runtime, now, changes)
    return True


def withdraw_offers(session: Session, runtime: QueueRuntime, entry: QueueEntry,
                    now: datetime, changes: Changes) -> None:
    """The caller left or hung up: any device still ringing for them stops, and an operator
    who had just answered is told 来电已挂断 and is 空闲 again."""
    live = session.scalars(select(Offer).where(
        Offer.entry_id == entry.id,
        Offer.status.in_((OfferStatus.PLACING.value, OfferStatus.RINGING.value,
                          OfferStatus.ANSWERED.value)))).all()
    for offer in live:
        answered = offer.status == OfferStatus.ANSWERED
        offer.status = (OfferStatus.DROPPED if answered else OfferStatus.CANCELLED).value
        offer.ended_at = now
        if offer.operator_call_sid:
            changes.cancel.append(offer.operator_call_sid)
        agent = session.get(Agent, offer.agent_id)
        if agent is not None and agent.offer_id == offer.id:
            agent_moves.move(agent, Trigger.DROPPED, runtime=runtime, now=now, changes=changes)
        changes.to_operator(offer.agent_id, {"type": "offer", "offer_id": offer.id,
                                             "status": "caller_gone", "label": "来电已挂断"})


class QueueOutcome(StrEnum):
    """Where the flow goes after the caller left the queue (an enqueue node's outcomes)."""

    ANSWERED = "answered"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    TIMEOUT = "timeout"
    GONE = "gone"
    FAILED = "failed"


def left_queue(session: Session, runtime: QueueRuntime, *, call_sid: str, queue_result: str,
               now: datetime) -> tuple[QueueOutcome, Changes]:
    """Twilio's ``<Enqueue>`` action: the caller left the queue (``QueueResult``)."""
    changes = Changes()
    lock_queue(session)
    entry = entry_for_call(session, call_sid)
    if queue_result == "bridged":
        if entry is not None and entry.status == EntryStatus.CONNECTED:
            end_call(entry, now)
            changes.queue_changed()
        return QueueOutcome.ANSWERED, changes
    if queue_result == "hangup":
        if entry is not None and entry.status in OPEN_STATUSES:
            abandon(session, runtime, entry, now, changes)
        return QueueOutcome.GONE, changes
    if queue_result == "leave" and entry is not None:
        if entry.status == EntryStatus.WAITING:  # a <Leave> we did not ask for: time is up
            leave(session, runtime, call_sid=call_sid, reason=LeaveReason.TIMEOUT, now=now,
                  changes=changes)
        reason = entry.left_reason or LeaveReason.TIMEOUT.value
        return {LeaveReason.CALLBACK.value: QueueOutcome.CALLBACK,
                LeaveReason.VOICEMAIL.value: QueueOutcome.VOICEMAIL}.get(
            reason, QueueOutcome.TIMEOUT), changes
    # queue-full, error, system-error, redirected: the queue failed the caller.
    if entry is not None and entry.status in (EntryStatus.WAITING, EntryStatus.OFFERED):
        withdraw_offers(session, runtime, entry, now, changes)
        entry.status, entry.left_reason, entry.ended_at = (
            EntryStatus.LEFT.value, LeaveReason.ERROR.value, now)
        entry.wait_seconds = seconds_between(entry.enqueued_at, now)
        changes.queue_changed()
    return QueueOutcome.FAILED, changes


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))


def end_call(entry: QueueEntry, now: datetime, talk_seconds: int | None = None) -> None:
    """The conversation is over (idempotent: the caller's and the operator's side both say so)."""
    if entry.status == EntryStatus.COMPLETED:
        return
    entry.status = EntryStatus.COMPLETED.value
    entry.ended_at = now
    if talk_seconds is None and entry.answered_at is not None:
        talk_seconds = round((now - entry.answered_at).total_seconds())
    entry.talk_seconds = max(0, talk_seconds or 0)


def abandon(session: Session, runtime: QueueRuntime, entry: QueueEntry, now: datetime,
            changes: Changes) -> None:
    """The caller hung up before talking to anyone."""
    if entry.status == EntryStatus.CONNECTED:
        end_call(entry, now)  # they did talk: hung up during the conversation
        return
    withdraw_offers(session, runtime, entry, now, changes)
    entry.status = EntryStatus.ABANDONED.value
    entry.left_reason = "hangup"
    entry.ended_at = now
    entry.wait_seconds = seconds_between(entry.enqueued_at, now)
    changes.queue_changed()
    dispatch(session, runtime, now, changes)


def request_callback(session: Session, runtime: QueueRuntime, *, call_sid: str,
                     from_number: str, area: str | None, subarea: str | None, now: datetime,
                     changes: Changes, origin: QueueEntry | None = None) -> QueueEntry:
    """预约回电: a task with its own deadline, in the line at the caller's place (the time
    they reached the service desk), dialled by an operator when it is its turn."""
    lock_queue(session)
    existing = callback_for_call(session, call_sid)
    if existing is not None:
        return existing
    if origin is None:
        origin = entry_for_call(session, call_sid)
    callback = QueueEntry(
        kind=EntryKind.CALLBACK.value, call_sid=call_sid, from_number=from_number,
        area=clean_area(area), subarea=subarea,
        place_at=origin.place_at if origin is not None else now, enqueued_at=now,
        status=EntryStatus.WAITING.value, deadline=runtime.callback_deadline(now),
        origin_id=origin.id if origin is not None else None, attempts=0,
        next_attempt_at=now)
    session.add(callback)
    session.flush()
    changes.queue_changed()
    dispatch(session, runtime, now, changes)
    return callback
