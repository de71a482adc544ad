"""Twilio REST requests, asserted as Twilio receives them (form fields, URL, auth)."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from core.twilio_rest import is_permanent, is_retryable, make_twilio_client
from ivr.outbound import dial_target, place_survey_call
from tests.followup.support import ACCOUNT_SID, API, FakeTwilio

CONFIG: dict[str, Any] = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": "secret-token",
    "TWILIO_CALLER_ID": "+8657488888718",
    "PUBLIC_BASE_URL": "https://hotline.example.cn",
    "SMS_SENDER": "+8610690000",
}


def test_survey_call_request_has_the_exact_twilio_parameters() -> None:
    twilio = FakeTwilio()
    sid = place_survey_call(make_twilio_client(CONFIG, twilio), CONFIG, followup_id=42,
                            to="sip:13800138000@trunk.example.cn")
    (sent,) = twilio.requests
    assert sid.startswith("CA")
    assert (sent.method, sent.url, sent.auth) == (
        "POST", f"{API}/Calls.json", (ACCOUNT_SID, "secret-token"))
    assert sent.data["To"] == "sip:13800138000@trunk.example.cn"
    assert sent.data["From"] == "+8657488888718"
    assert sent.data["Url"] == "https://hotline.example.cn/ivr/survey/start?followup=42"
    assert sent.data["Method"] == "POST"
    assert sent.data["StatusCallback"] == (
        "https://hotline.example.cn/ivr/survey/status?followup=42")
    assert sent.data["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert sent.data["MachineDetection"] == "Enable"


def test_caller_id_for_callbacks_can_differ_from_the_hotline_number() -> None:
    twilio = FakeTwilio()
    config = {**CONFIG, "FOLLOWUP_CALLER_ID": "+8657400000002"}
    place_survey_call(make_twilio_client(config, twilio), config, followup_id=1, to="+1")
    assert twilio.requests[0].data["From"] == "+8657400000002"


@pytest.mark.parametrize(("template", "target"), [
    ("", "+8613800138000"),
    ("sip:{number}@trunk.example.cn", "sip:13800138000@trunk.example.cn"),
    ("sip:{digits}@trunk.cn;transport=tls", "sip:8613800138000@trunk.cn;transport=tls"),
    ("sip:+{digits}@byoc.example.cn", "sip:+8613800138000@byoc.example.cn"),
])
def test_dial_target_is_e164_or_a_sip_uri(template: str, target: str) -> None:
    assert dial_target("+8613800138000", template) == target


def test_landlines_are_dialled_with_their_area_code_on_a_domestic_trunk() -> None:
    assert dial_target("+8657488888718", "sip:{number}@trunk.example.cn") == (
        "sip:057488888718@trunk.example.cn")


def test_rest_errors_are_classified() -> None:
    too_many = TwilioRestException(429, "Calls.json", "Too Many Requests", code=20429)
    bad_number = TwilioRestException(400, "Calls.json", "invalid To", code=21211)
    forbidden = TwilioRestException(403, "Calls.json", "forbidden", code=20003)
    assert is_retryable(too_many) and not is_permanent(too_many)
    assert is_retryable(TwilioRestException(503, "Calls.json")) and is_retryable(OSError())
    assert is_permanent(bad_number) and not is_retryable(bad_number)
    assert not is_retryable(forbidden) and not is_permanent(forbidden)
