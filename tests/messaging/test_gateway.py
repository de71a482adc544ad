"""Texts leave through Twilio Messaging, asserted as Twilio receives them."""

from __future__ import annotations

from typing import Any

from core.twilio_rest import make_twilio_client
from messaging.gateway import send_sms
from tests.followup.support import ACCOUNT_SID, API, FakeTwilio

CONFIG: dict[str, Any] = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": "secret-token",
    "PUBLIC_BASE_URL": "https://hotline.example.cn",
    "SMS_SENDER": "+8610690000",
}


def test_sms_goes_through_twilio_messaging() -> None:
    twilio = FakeTwilio()
    send_sms(make_twilio_client(CONFIG, twilio), CONFIG, to="+8613800138000", body="你好")
    (sent,) = twilio.requests
    assert (sent.url, sent.data) == (
        f"{API}/Messages.json", {"To": "+8613800138000", "From": "+8610690000", "Body": "你好"})


def test_sms_may_use_a_messaging_service() -> None:
    twilio = FakeTwilio()
    config = {**CONFIG, "SMS_MESSAGING_SERVICE_SID": "MG" + "2" * 32}
    send_sms(make_twilio_client(config, twilio), config, to="+8613800138000", body="你好")
    assert twilio.requests[0].data == {"To": "+8613800138000", "Body": "你好",
                                       "MessagingServiceSid": "MG" + "2" * 32}
