"""Twilio's message status callback for the SMS outbox: ``/ivr/sms/status?message=<id>``.

Thin: validate the signature, parse, record the delivery status on the outbox row, commit.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from core import twilio_fields
from core.clock import clock_of
from core.db import db
from core.twilio_signature import twilio_signed
from messaging.outbox import record_delivery

bp = Blueprint("sms", __name__, url_prefix="/ivr/sms")


@bp.post("/status")
@twilio_signed
def status() -> Response:
    sid = request.form.get("MessageSid", "")
    state = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    if not sid or not state:
        return Response("MessageSid and MessageStatus are required\n", status=400,
                        mimetype="text/plain")
    raw_id = request.args.get("message", "")
    message_id = twilio_fields.ascii_int(raw_id, limit=2**62) if len(raw_id) < 18 else None
    now = clock_of(current_app.config)()
    record_delivery(db.session, message_id=message_id, message_sid=sid, status=state,
                    error_code=request.form.get("ErrorCode"), now=now)
    db.session.commit()
    # 204 even for an unknown message: nothing Twilio could do about it by retrying.
    return Response(status=204)
