"""Twilio's REST API: the client for the configured account and what its errors mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

# Twilio error codes that no retry can fix: bad or unreachable "To" numbers, unverified
# caller ids, geographic permissions.
PERMANENT_CODES = frozenset({13223, 13224, 13225, 13226, 21210, 21211, 21212, 21213, 21214,
                             21215, 21216, 21217, 21219, 21401, 21408, 21610, 21612, 21614})


def make_twilio_client(config: Mapping[str, Any], http_client: HttpClient | None = None
                       ) -> Client:
    """A REST client for the configured account; tests inject ``http_client``."""
    http_client = http_client or config.get("TWILIO_HTTP_CLIENT")
    return Client(config.get("TWILIO_ACCOUNT_SID") or None, config.get("TWILIO_AUTH_TOKEN"),
                  http_client=http_client)


def is_retryable(exc: Exception) -> bool:
    """Worth repeating the same request soon: rate limits, Twilio's 5xx, network trouble."""
    if isinstance(exc, TwilioRestException):
        return exc.code not in PERMANENT_CODES and (exc.status == 429 or exc.status >= 500)
    return True


def is_permanent(exc: Exception) -> bool:
    """No later call to this number can work (invalid number, no permission to dial it)."""
    return isinstance(exc, TwilioRestException) and exc.code in PERMANENT_CODES
