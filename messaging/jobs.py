"""The jobs that send texts: one message (:func:`send_sms`) and the periodic catch-up.

:func:`hand_off` runs after the commit that queued a message (:func:`messaging.sms.send`);
if Redis is away then, :func:`send_due_texts` (periodic) sends it later.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from redis.exceptions import RedisError

from core.clock import system_clock
from core.db import db
from core.jobs import get_app
from core.queues import DEFAULT, enqueue_once, job_id, quick_redis_for
from core.twilio_rest import is_permanent, is_retryable, make_twilio_client
from messaging import gateway, outbox

log = logging.getLogger(__name__)

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
    """Send one queued text; failures are logged and retried, never raised to the caller."""
    app = get_app()
    config = app.config
    clock = config.get("CLOCK") or system_clock
    with app.app_context():
        with db.transaction() as session:
            message = outbox.claim(session, message_id, clock())
            if message is None:
                return "not pending"
            to, body = message.to, gateway.body_of(message, config)
        if not gateway.configured(config):
            with db.transaction() as session:
                outbox.mark_skipped(session, message_id, body=body, reason=NO_SENDER)
            return "skipped"
        try:
            sid = gateway.send_sms(make_twilio_client(config), config, to=to, body=body,
                                   message_id=message_id)
        except Exception as exc:
            log.warning("SMS %s to %s failed: %s", message_id, to, exc)
            retryable = is_retryable(exc) and not is_permanent(exc)
            with db.transaction() as session:
                retry = outbox.mark_failed(session, message_id, error=str(exc),
                                           retryable=retryable, now=clock())
            return "retry" if retry else "failed"
        with db.transaction() as session:
            outbox.mark_sent(session, message_id, sid=sid, body=body, now=clock())
        return sid


def send_due_texts() -> int:
    """Periodic catch-up: send every text that is due (lost hand-offs, retries); idempotent."""
    app = get_app()
    clock = app.config.get("CLOCK") or system_clock
    sent = 0
    with app.app_context():
        with db.transaction() as session:
            messages = outbox.due_messages(session, now=clock())
        for message_id in messages:
            if send_sms(message_id) != "not pending":
                sent += 1
    return sent
