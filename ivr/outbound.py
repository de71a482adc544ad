"""Outbound survey calls through Twilio's REST API.

Twilio does not terminate calls to mainland China numbers (docs/decisions.md §3), so what is
dialled is configurable: the E.164 number, or a SIP URI of a domestic trunk (BYOC) built from
``FOLLOWUP_DIAL_TEMPLATE``, e.g. ``sip:{number}@trunk.example.cn`` where ``{number}`` is the
number as dialled at home (``13800138000``, ``057488888718``); ``{e164}`` and ``{digits}``
(E.164 without ``+``) are available too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from core.settings import setting

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def dial_target(e164: str, template: str = "") -> str:
    """What to dial for ``e164``: the number itself, or ``template`` filled in."""
    if not template:
        return e164
    digits = re.sub(r"\D", "", e164)
    national = digits
    try:
        parsed = phonenumbers.parse(e164, None)
        formatted = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
        national = re.sub(r"\D", "", formatted)
    except NumberParseException:
        pass
    return template.format(number=national, e164=e164, digits=digits)


def survey_urls(base_url: str, followup_id: int) -> tuple[str, str]:
    """The survey's start URL and status callback URL for one follow-up."""
    base = base_url.rstrip("/")
    return (f"{base}/ivr/survey/start?followup={followup_id}",
            f"{base}/ivr/survey/status?followup={followup_id}")


def place_survey_call(client: Client, config: Mapping[str, Any], *, followup_id: int,
                      to: str) -> str:
    """Ask Twilio to call ``to`` with the survey; returns the CallSid."""
    url, status_callback = survey_urls(config["PUBLIC_BASE_URL"], followup_id)
    call = client.calls.create(
        to=to,
        from_=config.get("FOLLOWUP_CALLER_ID") or config["TWILIO_CALLER_ID"],
        url=url,
        method="POST",
        status_callback=status_callback,
        status_callback_event=STATUS_EVENTS,
        status_callback_method="POST",
        # Answering machines get no survey: Twilio tells us in AnsweredBy.
        machine_detection="Enable",
        timeout=int(setting(config, "FOLLOWUP_RING_SECONDS")),
    )
    if not call.sid:
        raise TwilioRestException(502, "Calls.json", "Twilio returned no CallSid")
    return str(call.sid)
