"""The one call that sends a text: :func:`send`.

The message is written to the outbox in the caller's transaction — a rolled-back step texts
nobody, and a slow or failing SMS gateway never holds up a call or a form — and handed to
the sending job once that transaction commits. If the hand-off is lost (Redis away), the
periodic catch-up (:func:`messaging.jobs.send_due_texts`) sends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.jobs import after_commit
from messaging import jobs, outbox
from messaging.models import SmsMessage


def send(session: Session, *, kind: str, to: str, params: dict[str, Any], dedupe_key: str,
         now: datetime, case_id: int | None = None) -> SmsMessage | None:
    """Text ``to`` the message of ``kind`` with ``params`` once the transaction commits.

    Returns the queued message; None when ``to`` cannot take texts (not a mobile). A second
    call with the same ``dedupe_key`` queues nothing and returns the first message.
    """
    message, new = outbox.queue(session, kind=kind, to=to, params=params,
                                dedupe_key=dedupe_key, now=now, case_id=case_id)
    due = message is not None and (message.next_try_at is None or message.next_try_at <= now)
    if message is not None and new and due:
        message_id = message.id
        after_commit(session, ("sms", message_id), lambda: jobs.hand_off(message_id))
    # A text over a limit (messaging.outbox) waits; the periodic catch-up sends it when due.
    return message
