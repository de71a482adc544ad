"""The application's clock, replaceable for tests and the terminal phone's ``--at``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock frozen at ``at`` (aware)."""
    if at.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    return lambda: at


def parse_local(text: str, tz: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM`` (or ISO) as local time in ``tz``."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value
