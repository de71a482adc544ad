"""Webhook error logs keep caller numbers and names out."""

from __future__ import annotations

import logging
from typing import Any

from ivr.redact import mask_number, redacted


def test_a_failing_webhook_logs_masked_numbers(twilio_post: Any, caplog: Any) -> None:
    params = {"From": "+8613800138000", "Caller": "sip:+8613800138000@trunk.example.cn",
              "To": "+8657488888718", "CallerName": "王经理", "CallStatus": "ringing"}
    with caplog.at_level(logging.ERROR, logger="ivr.routes"):
        response = twilio_post("/ivr/voice", params)  # no CallSid: the webhook fails
    assert response.status_code == 200 and b"<Record" in response.data
    assert "IVR webhook failed" in caplog.text
    assert "13800138000" not in caplog.text and "王经理" not in caplog.text
    assert "+86138****8000" in caplog.text


def test_masking_keeps_sids_and_short_values() -> None:
    assert mask_number("+8613800138000") == "+86138****8000"
    assert redacted({"CallSid": "CA" + "1" * 32, "Digits": "1"}) == {
        "CallSid": "CA" + "1" * 32, "Digits": "1"}
