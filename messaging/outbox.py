"""The outbox of text messages (``sms_messages``): queued, claimed, sent, reported.

A message is written in the transaction that causes it (:func:`messaging.sms.send`). The
sending job (:mod:`messaging.jobs`) claims it (``pending`` → ``sending``, committed before
the request so two jobs never send it twice), sends it and records the result; failures go
back to the outbox with back-off. Twilio's status callback records delivery.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.phones import is_mobile
from messaging.models import SmsMessage, SmsStatus
from messaging.texts import ENTERPRISE_KINDS, TEMPLATES

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
# Limits on texts to enterprises (texts.ENTERPRISE_KINDS), so no department, merge or
# retry can flood a phone under the hotline's name. A text over a limit is not dropped: it
# waits in the outbox for its slot (the periodic catch-up sends it then).
HOUR = timedelta(hours=1)
# One progress text (进度反馈) per case an hour; notes written meanwhile replace the waiting
# one's content (the latest progress is what the enterprise needs; key 9 reads it too).
MAX_PROGRESS_PER_CASE_PER_HOUR = 1
# Texts of any enterprise kind to one phone number in any hour.
MAX_PER_RECIPIENT_PER_HOUR = 5
# A message left ``sending`` this long (its job died) goes back to the outbox.
STUCK_AFTER = timedelta(minutes=10)


def queue(session: Session, *, kind: str, to: str, params: dict[str, Any], dedupe_key: str,
          now: datetime, case_id: int | None = None) -> tuple[SmsMessage | None, bool]:
    """Write one message to the outbox (:func:`messaging.sms.send` is the call to use).

    Returns the message and whether it is new. Nothing is queued when ``to`` cannot take
    texts (not a mobile), and a message with the same ``dedupe_key`` is not queued twice (a
    retried request texts once): the existing message is returned.
    """
    if kind not in TEMPLATES:
        raise ValueError(f"unknown SMS kind {kind!r}")
    if not to or not is_mobile(to):
        return None, False
    existing = session.scalars(
        select(SmsMessage).where(SmsMessage.dedupe_key == dedupe_key)).one_or_none()
    if existing is not None:
        return existing, False
    due = now
    if kind in ENTERPRISE_KINDS:
        if kind == "case_progress" and case_id is not None:
            waiting, due = _progress_slot(session, case_id, now)
            if waiting is not None:
                waiting.params = params  # the latest note replaces the one not yet sent
                return waiting, False
        due = _recipient_slot(session, to, max(due, now))
    message = SmsMessage(kind=kind, to=to, params=params, dedupe_key=dedupe_key[:120],
                         case_id=case_id, created_at=now, next_try_at=due)
    session.add(message)
    session.flush()
    return message, True


def _scheduled_at() -> Any:
    """When a message went out, or is to go out."""
    return func.coalesce(SmsMessage.sent_at, SmsMessage.next_try_at, SmsMessage.created_at)


def _progress_slot(session: Session, case_id: int, now: datetime
                   ) -> tuple[SmsMessage | None, datetime]:
    """A progress text of the case still waiting for its slot (to update), or the earliest
    time a new one may go (:data:`MAX_PROGRESS_PER_CASE_PER_HOUR`)."""
    recent = list(session.scalars(
        select(SmsMessage).where(SmsMessage.case_id == case_id,
                                 SmsMessage.kind == "case_progress",
                                 SmsMessage.status != SmsStatus.SKIPPED,
                                 _scheduled_at() > now - HOUR)
        .order_by(_scheduled_at())))
    waiting = [m for m in recent if m.status == SmsStatus.PENDING
               and m.next_try_at is not None and m.next_try_at > now]
    if waiting:
        return waiting[-1], now
    if len(recent) < MAX_PROGRESS_PER_CASE_PER_HOUR:
        return None, now
    last = recent[-MAX_PROGRESS_PER_CASE_PER_HOUR]
    return None, (last.sent_at or last.next_try_at or last.created_at) + HOUR


def _recipient_slot(session: Session, to: str, earliest: datetime) -> datetime:
    """The earliest time from ``earliest`` on when ``to`` has had fewer than
    :data:`MAX_PER_RECIPIENT_PER_HOUR` enterprise texts in the hour before."""
    times = sorted(session.scalars(
        select(_scheduled_at()).where(SmsMessage.to == to,
                                      SmsMessage.kind.in_(ENTERPRISE_KINDS),
                                      SmsMessage.status != SmsStatus.SKIPPED,
                                      _scheduled_at() > earliest - HOUR)))
    slot = earliest
    while True:
        window = [t for t in times if slot - HOUR < t <= slot]
        if len(window) < MAX_PER_RECIPIENT_PER_HOUR:
            return slot
        slot = window[0] + HOUR


def claim(session: Session, message_id: int, now: datetime) -> SmsMessage | None:
    """``pending`` → ``sending`` for exactly one caller; None if someone else has it."""
    result = session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status == SmsStatus.PENDING)
        .values(status=SmsStatus.SENDING, attempts=SmsMessage.attempts + 1, next_try_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return session.scalars(
        select(SmsMessage).where(SmsMessage.id == message_id)
        .execution_options(populate_existing=True)).one()


def mark_sent(session: Session, message_id: int, *, sid: str, body: str, now: datetime) -> None:
    session.execute(update(SmsMessage).where(SmsMessage.id == message_id).values(
        status=SmsStatus.SENT, message_sid=sid[:64], body=body, sent_at=now, error=None))


def mark_skipped(session: Session, message_id: int, *, body: str, reason: str) -> None:
    session.execute(update(SmsMessage).where(SmsMessage.id == message_id).values(
        status=SmsStatus.SKIPPED, body=body, error=reason))


def mark_failed(session: Session, message_id: int, *, error: str, retryable: bool,
                now: datetime) -> bool:
    """Back to the outbox for a later try, or failed for good; True if it will be retried."""
    message = session.get(SmsMessage, message_id)
    if message is None:
        return False
    retry = retryable and message.attempts <= len(RETRY_DELAYS)
    message.error = error[:2000]
    if retry:
        message.status = SmsStatus.PENDING
        message.next_try_at = now + RETRY_DELAYS[message.attempts - 1]
    else:
        message.status = SmsStatus.FAILED
    return retry


def due_messages(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Ids of messages to send now; stuck ones are put back first."""
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.status == SmsStatus.SENDING, SmsMessage.next_try_at < now - STUCK_AFTER)
        .values(status=SmsStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(
        select(SmsMessage.id)
        .where(SmsMessage.status == SmsStatus.PENDING, SmsMessage.next_try_at <= now)
        .order_by(SmsMessage.id).limit(limit)))


def record_delivery(session: Session, *, message_id: int | None, message_sid: str,
                    status: str, error_code: str | None, now: datetime) -> SmsMessage | None:
    """Twilio's message status callback: keep the latest delivery status of our message."""
    query = select(SmsMessage).where(SmsMessage.message_sid == message_sid[:64])
    if message_id is not None:
        query = select(SmsMessage).where(SmsMessage.id == message_id)
    message = session.scalars(query).one_or_none()
    if message is None or (message.message_sid and message.message_sid != message_sid[:64]):
        return None
    message.message_sid = message.message_sid or message_sid[:64]
    message.delivery_status = status[:16]
    message.delivery_error_code = (error_code or "")[:16] or None
    message.delivery_updated_at = now
    return message
