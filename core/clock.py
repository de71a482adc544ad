"""The application's clock, replaceable for tests and the terminal phone's ``--at``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def clock_of(config: Mapping[str, Any]) -> Clock:
    """The clock of an application's ``config``: its ``CLOCK`` if set, else the system clock.

    The one place that reads the ``CLOCK`` setting (tests and the terminal phone's ``--at``
    set it); everything else asks here, e.g. ``clock_of(current_app.config)()``."""
    configured: Clock | None = config.get("CLOCK")
    return configured or system_clock


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
