"""Where Twilio streams operator calls (light: the app factory builds the TwiML with it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

STREAM_PATH = "/live/stream"


def stream_url(config: Mapping[str, Any]) -> str:
    """``LIVE_STREAM_URL``, else the public base as ``wss://host/live/stream`` (a proxy sends
    /live/ to the live process), or locally ``ws://host:LIVE_PORT/live/stream``."""
    configured = str(config.get("LIVE_STREAM_URL") or "")
    if configured:
        return configured
    base = urlsplit(str(config["PUBLIC_BASE_URL"]))
    if base.scheme == "https":
        return f"wss://{base.netloc}{STREAM_PATH}"
    host = base.hostname or "127.0.0.1"
    return f"ws://{host}:{config.get('LIVE_PORT') or 5001}{STREAM_PATH}"


def live_stream_url(config: Mapping[str, Any]) -> str | None:
    """The stream URL for the operator leg's TwiML, or None when live transcription is off."""
    return stream_url(config) if int(config.get("LIVE_STREAMS_MAX") or 0) > 0 else None
