"""The jobs that send texts: one message (:func:`send_sms`) and the periodic catch-up.

:func:`hand_off` runs after the commit that queued a message (:func:`messaging.sms.send`);
if Redis is away then, :func:`send_due_texts` (periodic) sends it later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from core.clock import clock_of
from core.db import db, retry_when_locked, run_retrying
from core.jobs import get_app
from core.queues import DEFAULT, enqueue_once, job_id, quick_redis_for
from core.twilio_rest import is_permanent, is_retryable, make_twilio_client
from messaging import gateway, outbox

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_SENDER = "未配置短信发送号码（SMS_SENDER / SMS_MESSAGING_SERVICE_SID）"


def hand_off(message_id: int) -> None:
    """Enqueue the sending job of a message just committed (inside a request or a job)."""
    if not has_app_context():
        return
    connection = quick_redis_for(current_app.config)
    if connection is None:
        return
    try:
        enqueue_once(connection, DEFAULT, send_sms, message_id, jid=job_id("sms", message_id),
                     result_ttl=86400, failure_ttl=30 * 86400)
    except RedisError as exc:
        # The row is committed; send_due_texts sends it later.
        log.warning("text %s not enqueued (periodic catch-up will): %s", message_id, exc)


def send_sms(message_id: int) -> str:
    """Send one queued text; failures are logged and retried, never raised to the caller.

    Not idempotent as a whole (it sends): a lock conflict runs each database step again
    (the claim that guards the sending, the outcome after it), never the sending."""
    app = get_app()
    config = app.config
    clock = clock_of(config)
    what = f"SMS {message_id}"

    def write(step: Callable[[Session], T]) -> T:
        def work() -> T:
            with db.write_transaction() as session:
                return step(session)
        return run_retrying(work, what=what)

    with app.app_context():
        def claim(session: Session) -> tuple[str, str] | None:
            message = outbox.claim(session, message_id, clock())
            return None if message is None else (message.to, gateway.body_of(message, config))

        claimed = write(claim)
        if claimed is None:
            return "not pending"
        to, body = claimed
        if not gateway.configured(config):
            write(lambda session: outbox.mark_skipped(session, message_id, body=body,
                                                      reason=NO_SENDER))
            return "skipped"
        try:
            sid = gateway.send_sms(make_twilio_client(config), config, to=to, body=body,
                                   message_id=message_id)
        except Exception as exc:
            log.warning("SMS %s to %s failed: %s", message_id, to, exc)
            retryable = is_retryable(exc) and not is_permanent(exc)
            error = str(exc)
            retry = write(lambda session: outbox.mark_failed(
                session, message_id, error=error, retryable=retryable, now=clock()))
            return "retry" if retry else "failed"
        write(lambda session: outbox.mark_sent(session, message_id, sid=sid, body=body,
                                               now=clock()))
        return sid


@retry_when_locked
def send_due_texts() -> int:
    """Periodic catch-up: send every text that is due (lost hand-offs, retries); idempotent
    (each text is claimed before it is sent), so a lock conflict runs it again."""
    app = get_app()
    clock = clock_of(app.config)
    sent = 0
    with app.app_context():
        with db.transaction() as session:
            messages = outbox.due_messages(session, now=clock())
        for message_id in messages:
            if send_sms(message_id) != "not pending":
                sent += 1
    return sent
