"""Numeric fields of Twilio requests, checked at the edge: ASCII digits, sane ranges.

Signed requests are not trusted values: ``str.isdigit()`` accepts ``²`` (which ``int()``
refuses), a field may carry thousands of digits (slow to convert, refused past 4300), and
3000000000 overflows a PostgreSQL ``integer``. Every number read from a Twilio request
goes through here before it is logged, queued or written.
"""

from __future__ import annotations

# Twilio ends a call after 24 hours (a recording is shorter still).
MAX_SECONDS = 24 * 3600


def ascii_int(value: str | None, *, limit: int) -> int | None:
    """A non-negative integer of ASCII digits, clamped to ``limit``; None if not a number."""
    text = (value or "").strip()
    if not text or not text.isascii() or not text.isdigit():
        return None
    if len(text) > len(str(limit)):  # no int() of a huge string: it is over the limit
        return limit
    return min(int(text), limit)


def seconds(value: str | None) -> int | None:
    """A duration in seconds (CallDuration, RecordingDuration, DialCallDuration)."""
    return ascii_int(value, limit=MAX_SECONDS)


def seconds_text(value: str | None) -> str | None:
    """:func:`seconds` as the text a queued call-log entry carries; None when invalid."""
    number = seconds(value)
    return None if number is None else str(number)
