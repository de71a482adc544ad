"""``flask call --at`` against a running local hotline: the time a call happens at.

Trying the night or a holiday path against ``make run`` should not mean waiting for the night.
The terminal phone sends the chosen time in a header signed with the auth token (over the time
and the CallSid, so a header seen once cannot be reused on another call). The server honours
it only on a local set-up, where nobody but the machine's own user can reach it:

- the request comes from a loopback address and no proxy is trusted (``TRUSTED_PROXIES=0``;
  behind a proxy every request would come from loopback);
- the public base URL is ``http://`` on a loopback host (a real deployment is https and
  public; the same line the signature bypass draws);
- the signature matches.

Anything else is ignored (and logged): the call goes on at the server's own time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from core.settings import setting

log = logging.getLogger(__name__)

HEADER = "X-Hotline-Simulated-Time"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _signature(auth_token: str, call_sid: str, at_text: str) -> str:
    message = f"{call_sid}\n{at_text}".encode()
    return hmac.new(auth_token.encode(), message, hashlib.sha256).hexdigest()


def header_value(auth_token: str, call_sid: str, at: datetime) -> str:
    """What the terminal phone sends: the aware time in ISO form and its signature."""
    if at.tzinfo is None:
        raise ValueError("a simulated time must be aware")
    at_text = at.isoformat()
    return f"{at_text};{_signature(auth_token, call_sid, at_text)}"


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def is_local_setup(config: Mapping[str, Any]) -> bool:
    """A server only its own machine can call: loopback public URL over http, no proxy."""
    base = urlsplit(str(config.get("PUBLIC_BASE_URL") or ""))
    return (base.scheme == "http" and (base.hostname or "") in LOOPBACK_HOSTS
            and not int(setting(config, "TRUSTED_PROXIES")))


def honoured_time(config: Mapping[str, Any], *, value: str | None, remote_addr: str | None,
                  call_sid: str) -> datetime | None:
    """The simulated time of this request, or None (no header, or not honoured here)."""
    if not value:
        return None
    if not (is_local_setup(config) and _is_loopback(remote_addr)):
        log.warning("ignoring %s from %s: only a local set-up honours it", HEADER, remote_addr)
        return None
    at_text, _, signature = value.rpartition(";")
    expected = _signature(str(config.get("TWILIO_AUTH_TOKEN") or ""), call_sid, at_text)
    if not (call_sid and hmac.compare_digest(expected, signature)):
        log.warning("ignoring %s: bad signature", HEADER)
        return None
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
