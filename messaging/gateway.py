"""Twilio Messaging: the one place a text leaves the hotline.

:func:`send_sms` makes the REST request; Twilio reports delivery to the signed status
callback (:mod:`messaging.routes`), which records it on the outbox row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.rest import Client

from messaging.models import SmsMessage
from messaging.texts import DEFAULT_HOTLINE, DEFAULT_SIGNATURE, render

STATUS_PATH = "/ivr/sms/status"


def configured(config: Mapping[str, Any]) -> bool:
    """A sender (number or Messaging Service) and a real account are configured."""
    has_sender = bool(config.get("SMS_SENDER") or config.get("SMS_MESSAGING_SERVICE_SID"))
    return has_sender and bool(config.get("TWILIO_ACCOUNT_SID"))


def body_of(message: SmsMessage, config: Mapping[str, Any]) -> str:
    return render(message.kind, message.params or {},
                  signature=config.get("SMS_SIGNATURE") or DEFAULT_SIGNATURE,
                  hotline=config.get("HOTLINE_DISPLAY_NUMBER") or DEFAULT_HOTLINE)


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
