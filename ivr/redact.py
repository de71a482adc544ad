"""Caller numbers out of logs: log lines keep enough digits to correlate, not to call back."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Twilio parameters that carry a party's number (E.164 or inside a SIP URI).
NUMBER_FIELDS = frozenset({"From", "To", "Caller", "Called", "ForwardedFrom"})
NAME_FIELDS = frozenset({"CallerName"})
DIGIT_RUN = re.compile(r"\+?\d{5,}")


def mask_number(value: str) -> str:
    """``+8613800138000`` → ``+86138****8000``: the prefix and the last four digits."""
    if len(value) <= 8:
        return value[:2] + "*" * (len(value) - 2)
    return value[:6] + "****" + value[-4:]


def redacted(params: Mapping[str, str]) -> dict[str, str]:
    """The webhook parameters with caller numbers and names masked, for an error log."""
    masked = {}
    for key, value in params.items():
        if key in NUMBER_FIELDS:
            value = DIGIT_RUN.sub(lambda found: mask_number(found.group()), value)
        elif key in NAME_FIELDS:
            value = "***"
        masked[key] = value
    return masked
