"""Twilio Media Streams messages (``connected``, ``start``, ``media``, ``stop``), checked.

Twilio sends JSON text frames over the WebSocket: ``connected`` once, ``start`` with the
call, the tracks and the media format (audio/x-mulaw, 8000 Hz, mono), then ``media`` frames of
base64 μ-law (20 ms each, per track), and ``stop``; ``mark`` and ``dtmf`` may come between.
Anything else, or a frame without the fields its event needs, is a :class:`ProtocolError`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

TRACKS = ("inbound", "outbound")
MAX_FRAME = 64 * 1024  # a media frame is ~220 bytes; anything near this is not Twilio


class ProtocolError(ValueError):
    """A frame that is not a valid Media Streams message."""


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    # The <Parameter>s of the <Stream> (e.g. the caller's call on an operator's leg).
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Media:
    track: str
    payload: bytes  # μ-law, 8 kHz mono
    timestamp_ms: int


@dataclass(frozen=True)
class Stop:
    call_sid: str


@dataclass(frozen=True)
class Other:
    event: str  # connected, mark, dtmf: nothing to decode


Message = Start | Media | Stop | Other


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind):
        raise ProtocolError(f"missing or invalid {name!r}")
    return value


def parse(frame: str | bytes) -> Message:
    """One WebSocket frame as a message; raises ProtocolError for anything malformed."""
    if isinstance(frame, bytes) or len(frame) > MAX_FRAME:
        raise ProtocolError("expected a JSON text frame")
    try:
        data = json.loads(frame)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("expected a JSON object")
    event = _field(data, "event", str)
    if event == "start":
        start = _field(data, "start", dict)
        media_format = start.get("mediaFormat") or {}
        if media_format.get("encoding") not in (None, "audio/x-mulaw") \
                or int(media_format.get("sampleRate") or 8000) != 8000:
            raise ProtocolError(f"unsupported media format {media_format!r}")
        tracks = tuple(t for t in (start.get("tracks") or ["inbound"]) if t in TRACKS)
        custom = start.get("customParameters") or {}
        if not isinstance(custom, dict):
            raise ProtocolError("customParameters is not an object")
        return Start(_field(data, "streamSid", str), _field(start, "callSid", str),
                     str(start.get("accountSid") or ""), tracks or ("inbound",),
                     {str(k)[:64]: str(v)[:128] for k, v in list(custom.items())[:10]})
    if event == "media":
        media = _field(data, "media", dict)
        track = media.get("track") or "inbound"
        if track not in TRACKS:
            raise ProtocolError(f"unknown track {track!r}")
        try:
            payload = base64.b64decode(_field(media, "payload", str), validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("payload is not base64") from None
        try:
            timestamp = int(media.get("timestamp") or 0)
        except (TypeError, ValueError):
            raise ProtocolError("invalid timestamp") from None
        return Media(track, payload, timestamp)
    if event == "stop":
        stop = data.get("stop")
        return Stop(str(stop.get("callSid") or "") if isinstance(stop, dict) else "")
    if event in ("connected", "mark", "dtmf"):
        return Other(event)
    raise ProtocolError(f"unknown event {event!r}")
