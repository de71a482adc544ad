"""Known-answer signature vectors, computed here without twilio's validator.

The form vector is the one in Twilio's request-validation documentation and helper libraries
(auth token ``12345``); :func:`reference_signature` recomputes every expected value from the
documented rule (HMAC-SHA1 over the URL followed by the sorted parameters, base64), so a
change in the validator cannot move the expectations with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from flask import Flask

from core.twilio_signature import is_valid, twilio_signed

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
          "From": "+12349013030", "To": "+18005551212"}
DOCUMENTED_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
JSON_BODY = '{"property": "value", "boolean": true}'
JSON_BODY_SHA256 = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
DOCUMENTED_JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="


def reference_signature(url: str, params: dict[str, str] | None = None) -> str:
    signed = url + "".join(name + params[name] for name in sorted(params or {}))
    digest = hmac.new(TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_the_reference_reproduces_the_documented_vectors() -> None:
    assert reference_signature(URL, PARAMS) == DOCUMENTED_SIGNATURE
    assert hashlib.sha256(JSON_BODY.encode()).hexdigest() == JSON_BODY_SHA256
    assert reference_signature(f"{URL}&bodySHA256={JSON_BODY_SHA256}") \
        == DOCUMENTED_JSON_SIGNATURE


def test_documented_form_vector() -> None:
    assert is_valid(TOKEN, URL, PARAMS, DOCUMENTED_SIGNATURE)
    assert not is_valid(TOKEN, URL, {**PARAMS, "Digits": "1235"}, DOCUMENTED_SIGNATURE)
    assert not is_valid(TOKEN, URL.replace("bar=2", "bar=3"), PARAMS, DOCUMENTED_SIGNATURE)


@pytest.mark.parametrize(("configured", "signed"), [
    ("https://mycompany.com/myapp.php?foo=1&bar=2",
     "https://mycompany.com:443/myapp.php?foo=1&bar=2"),
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2",
     "https://mycompany.com/myapp.php?foo=1&bar=2"),
    ("http://mycompany.com/myapp.php?foo=1&bar=2",
     "http://mycompany.com:80/myapp.php?foo=1&bar=2"),
])
def test_twilio_may_sign_with_or_without_the_default_port(configured: str, signed: str) -> None:
    assert is_valid(TOKEN, configured, PARAMS, reference_signature(signed, PARAMS))
    assert not is_valid(TOKEN, configured, PARAMS,
                        reference_signature(signed.replace("mycompany", "other"), PARAMS))


def test_json_body_is_checked_against_its_hash() -> None:
    url = f"{URL}&bodySHA256={JSON_BODY_SHA256}"
    assert is_valid(TOKEN, url, JSON_BODY, DOCUMENTED_JSON_SIGNATURE)
    assert not is_valid(TOKEN, url, JSON_BODY.replace("true", "false"),
                        DOCUMENTED_JSON_SIGNATURE)


@pytest.fixture
def signed_app() -> Flask:
    """A bare app with one signed view, configured as the documented example's server."""
    app = Flask(__name__)
    app.config.update(PUBLIC_BASE_URL="https://mycompany.com", TWILIO_AUTH_TOKEN=TOKEN)

    @app.post("/myapp.php")
    @twilio_signed
    def hook() -> Any:
        return "ok"

    return app


def test_the_webhook_accepts_the_parameters_in_any_order(signed_app: Flask) -> None:
    client = signed_app.test_client()
    for order in (list(PARAMS.items()), list(reversed(PARAMS.items()))):
        body = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in order)
        response = client.post("/myapp.php?foo=1&bar=2", data=body,
                               content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": DOCUMENTED_SIGNATURE})
        assert response.status_code == 200, body


def test_the_webhook_checks_a_json_body(signed_app: Flask) -> None:
    client = signed_app.test_client()
    path = f"/myapp.php?foo=1&bar=2&bodySHA256={JSON_BODY_SHA256}"
    headers = {"X-Twilio-Signature": DOCUMENTED_JSON_SIGNATURE}
    good = client.post(path, data=JSON_BODY, content_type="application/json", headers=headers)
    forged = client.post(path, data=JSON_BODY.replace("value", "other"),
                         content_type="application/json", headers=headers)
    assert (good.status_code, forged.status_code) == (200, 403)
