"""When follow-up calls (回访) may be placed: the calling window and retry rules, from config."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.config import DEFAULT_TZ, hotline_zone, parse_bool
from core.settings import setting
from workdays.calendar import WorkCalendar
from workdays.office_hours import OfficeHours, parse_windows

_DELAY = re.compile(r"^(\d+)\s*([mhd])$")
_NEXT_WORKING_DAY = re.compile(r"^next-working-day\s+(\d{1,2}):(\d{2})$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}



@dataclass(frozen=True)
class FollowUpPolicy:
    """When follow-up calls may be placed; built from the configuration."""

    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(14), time(20)))
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TZ))
    # First call: the next working day at ``first_call_time``, or ``first_call_delay``
    # after the answer when that is set.
    first_call_time: time = time(9, 30)
    first_call_delay: timedelta | None = None
    max_attempts: int = 3
    # Wait after a failed attempt before the next one (the last value repeats).
    retry_delays: tuple[timedelta, ...] = (timedelta(hours=4), timedelta(hours=24))
    # All attempts fall on the first attempt's working day and the next ones, this many.
    span_working_days: int = 2
    auto_calls: bool = True
    # An attempt with no final status after this long is written off as lost.
    lost_after: timedelta = timedelta(hours=2)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FollowUpPolicy:
        """Read ``FOLLOWUP_*`` settings; invalid values raise ``ValueError`` (in Chinese)."""
        delay_text = str(setting(config, "FOLLOWUP_DELAY")).strip()
        first_time, first_delay = cls.first_call_time, None
        if match := _NEXT_WORKING_DAY.match(delay_text):
            first_time = time(int(match[1]), int(match[2]))
        elif match := _DELAY.match(delay_text):
            first_delay = timedelta(**{_UNITS[match[2]]: int(match[1])})
        else:
            raise ValueError(
                f"FOLLOWUP_DELAY 格式错误：{delay_text!r}，"
                "应为 next-working-day 09:30 或 24h / 90m / 1d"
            )
        retry = config.get("FOLLOWUP_RETRY_DELAYS")
        retry_minutes = [240, 1440] if retry is None else [int(m) for m in retry]
        auto = config.get("FOLLOWUP_AUTO_CALLS")
        # Without a real Twilio account every call would fail: operators call instead.
        has_account = bool(config.get("TWILIO_ACCOUNT_SID")) and not config.get(
            "TWILIO_AUTH_TOKEN_IS_LOCAL")
        max_attempts = int(config.get("FOLLOWUP_MAX_ATTEMPTS") or cls.max_attempts)
        span = int(config.get("FOLLOWUP_SPAN_WORKING_DAYS") or cls.span_working_days)
        if max_attempts < 1 or span < 1:
            raise ValueError("FOLLOWUP_MAX_ATTEMPTS 与 FOLLOWUP_SPAN_WORKING_DAYS 至少为1")
        return cls(
            windows=tuple(parse_windows(str(config.get("FOLLOWUP_WINDOWS")
                                            or "09:00-12:00,14:00-20:00"))),
            tz=hotline_zone(config),
            first_call_time=first_time,
            first_call_delay=first_delay,
            max_attempts=max_attempts,
            retry_delays=tuple(timedelta(minutes=m) for m in retry_minutes),
            span_working_days=span,
            auto_calls=parse_bool(auto, has_account),
        )

    def hours(self, calendar: WorkCalendar) -> OfficeHours:
        """The calling window: working days only, inside the daily windows."""
        return OfficeHours(self.windows, calendar, self.tz)

    def first_attempt_at(self, answered_at: datetime, calendar: WorkCalendar) -> datetime:
        if self.first_call_delay is not None:
            candidate = answered_at + self.first_call_delay
        else:
            answered_day = answered_at.astimezone(self.tz).date()
            day = calendar.add_working_days(answered_day, 1).day
            candidate = datetime.combine(day, self.first_call_time, tzinfo=self.tz)
        return self.hours(calendar).next_opening(candidate)

    def retry_at(self, first_attempt_at: datetime, failed_at: datetime, attempts_made: int,
                 calendar: WorkCalendar) -> datetime | None:
        """When to try again after ``attempts_made`` calls, or None: give it to an operator."""
        if attempts_made >= self.max_attempts:
            return None
        delays = self.retry_delays or (timedelta(0),)
        delay = delays[min(attempts_made, len(delays)) - 1]
        candidate = self.hours(calendar).next_opening(failed_at + delay)
        first_day = calendar.effective_receipt_day(first_attempt_at.astimezone(self.tz).date())
        last_day = calendar.add_working_days(first_day.day, self.span_working_days - 1).day
        if candidate.astimezone(self.tz).date() > last_day:
            return None
        return candidate
