"""Every webhook checks Twilio's signature against the public URL."""

from __future__ import annotations

import logging

import pytest

CALL = {"CallSid": "CA100", "From": "+8613800138000", "To": "+8657488888718",
        "CallStatus": "ringing", "AccountSid": "AC1"}


def test_valid_signature_is_accepted(twilio_post):
    response = twilio_post("/ivr/voice", CALL)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"


def test_forged_signature_is_rejected(twilio_post):
    response = twilio_post("/ivr/voice", CALL, signature="Zm9yZ2VkIHNpZ25hdHVyZQ==")
    assert response.status_code == 403


def test_missing_signature_is_rejected(client):
    assert client.post("/ivr/voice", data=CALL).status_code == 403


def test_signature_for_another_url_is_rejected(twilio_post):
    response = twilio_post("/ivr/voice", CALL, url="https://evil.example/ivr/voice")
    assert response.status_code == 403


def test_tampered_parameter_is_rejected(client, twilio_post):
    from twilio.request_validator import RequestValidator

    from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/ivr/voice", CALL)
    tampered = {**CALL, "From": "+8613900000000"}
    response = client.post("/ivr/voice", data=tampered, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/ivr/status", "/ivr/recording", "/ivr/fallback",
                                  "/ivr/flow/hotline/main_menu?event=gather"])
def test_every_webhook_requires_a_signature(client, path):
    assert client.post(path, data=CALL).status_code == 403


def test_query_string_is_part_of_the_signed_url(twilio_post):
    path = "/ivr/flow/hotline/main_menu?event=gather"
    ok = twilio_post(path, {**CALL, "Digits": "1"})
    forged = twilio_post(path, {**CALL, "Digits": "1"},
                         url="https://hotline.example.test/ivr/flow/hotline/main_menu")
    assert (ok.status_code, forged.status_code) == (200, 403)


def test_rejection_is_logged(client, caplog):
    with caplog.at_level(logging.WARNING, logger="core.twilio_signature"):
        client.post("/ivr/voice", data=CALL)
    assert "bad signature" in caplog.text


def test_explicit_bypass_accepts_and_warns_loudly(app_config, caplog):
    from app import create_app

    app_config["TWILIO_SIGNATURE_BYPASS"] = True
    app_config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    app = create_app(app_config)
    with caplog.at_level(logging.WARNING):
        response = app.test_client().post("/ivr/voice", data=CALL)
    assert response.status_code == 200
    assert "BYPASSED" in caplog.text


def test_bypass_is_refused_on_a_public_https_address(app_config, caplog):
    """An https PUBLIC_BASE_URL is a real deployment: signatures stay on, loudly."""
    from app import create_app

    app_config["TWILIO_SIGNATURE_BYPASS"] = True
    with caplog.at_level(logging.ERROR):
        app = create_app(app_config)
    assert app.test_client().post("/ivr/voice", data=CALL).status_code == 403
    assert "TWILIO_SIGNATURE_BYPASS refused" in caplog.text


def test_debug_mode_does_not_bypass(app_config):
    from app import create_app

    app_config["DEBUG"] = True
    app = create_app(app_config)
    assert app.test_client().post("/ivr/voice", data=CALL).status_code == 403
