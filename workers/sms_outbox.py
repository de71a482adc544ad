"""Text messages through Twilio Messaging, sent from the outbox by a job.

Messages are queued by the domain (:mod:`cases.receipts`, :mod:`cases.reminders`) in
``sms_messages``; a job claims one (``pending`` → ``sending``, committed before the request
so two jobs never send it twice), sends it, and records the result. Failures are logged and
retried with back-off; nothing here runs inside a call's webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from twilio.rest import Client

from cases.notice_models import SmsMessage, SmsStatus
from cases.receipts import DEFAULT_HOTLINE, DEFAULT_SIGNATURE, render

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
# A message left ``sending`` this long (its job died) goes back to the outbox.
STUCK_AFTER = timedelta(minutes=10)


def configured(config: Mapping[str, Any]) -> bool:
    """A sender (number or Messaging Service) and a real account are configured."""
    has_sender = bool(config.get("SMS_SENDER") or config.get("SMS_MESSAGING_SERVICE_SID"))
    return has_sender and bool(config.get("TWILIO_ACCOUNT_SID"))


def body_of(message: SmsMessage, config: Mapping[str, Any]) -> str:
    return render(message.kind, message.params or {},
                  signature=config.get("SMS_SIGNATURE") or DEFAULT_SIGNATURE,
                  hotline=config.get("HOTLINE_DISPLAY_NUMBER") or DEFAULT_HOTLINE)


STATUS_PATH = "/ivr/sms/status"


def status_callback_url(base_url: str, message_id: int) -> str:
    """Where Twilio reports the delivery status of outbox message ``message_id``."""
    return f"{base_url.rstrip('/')}{STATUS_PATH}?message={message_id}"


def send_sms(client: Client, config: Mapping[str, Any], *, to: str, body: str,
             message_id: int | None = None) -> str:
    """One text through Twilio Messaging; returns the MessageSid.

    With ``message_id`` (and ``PUBLIC_BASE_URL``) Twilio reports delivery to the signed
    status callback, which records it on the outbox row.
    """
    service = config.get("SMS_MESSAGING_SERVICE_SID")
    options: dict[str, str] = (
        {"messaging_service_sid": service} if service else {"from_": config["SMS_SENDER"]}
    )
    if message_id is not None and config.get("PUBLIC_BASE_URL"):
        options["status_callback"] = status_callback_url(config["PUBLIC_BASE_URL"], message_id)
    message = client.messages.create(to=to, body=body, **options)
    return str(message.sid)


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
