"""The browser softphone: a Twilio Voice access token for an operator whose device is
``client:<identity>`` (the Twilio Voice JavaScript SDK registers under that identity and the
queue rings it like any other device).

Needs ``TWILIO_ACCOUNT_SID``, an API key (``TWILIO_API_KEY``, ``TWILIO_API_SECRET``), the TwiML
app for outgoing calls (``TWILIO_TWIML_APP_SID``) and where the console loads the SDK from
(``TWILIO_VOICE_SDK_URL``). The token is made with the ``twilio`` library's ``AccessToken``
and ``VoiceGrant`` (incoming calls allowed), valid for an hour; the page fetches a new one
before it expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

TTL_SECONDS = 3600
NEEDED = ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_TWIML_APP_SID",
          "TWILIO_VOICE_SDK_URL")


def enabled(config: Mapping[str, Any]) -> bool:
    return all(config.get(name) for name in NEEDED)


def access_token(config: Mapping[str, Any], *, identity: str) -> str:
    token = AccessToken(str(config["TWILIO_ACCOUNT_SID"]), str(config["TWILIO_API_KEY"]),
                        str(config["TWILIO_API_SECRET"]), identity=identity, ttl=TTL_SECONDS)
    token.add_grant(VoiceGrant(incoming_allow=True,
                               outgoing_application_sid=str(config["TWILIO_TWIML_APP_SID"])))
    jwt = token.to_jwt()
    return jwt.decode() if isinstance(jwt, bytes) else str(jwt)


def script_origin(config: Mapping[str, Any]) -> str | None:
    """The origin the SDK is loaded from (for the desk page's Content-Security-Policy)."""
    from urllib.parse import urlsplit

    url = str(config.get("TWILIO_VOICE_SDK_URL") or "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
