"""Office hours: when operators answer the hotline (working days, inside daily windows)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from workdays.calendar import WorkCalendar

# Administrators type the spec in Chinese input methods too: accept 、；and dash variants.
_WINDOW_SEPARATORS = re.compile(r"[,;、\n]+")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*[-~–—至]\s*(\d{1,2}):(\d{2})$")

# Far more than any run of consecutive non-working days, so a broken calendar fails loudly.
_MAX_DAYS_AHEAD = 400


def _clock(hour: str, minute: str, window: str) -> time:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ValueError(f"营业时间中的时刻无效：{window!r}")
    return time(h, m)


def parse_windows(spec: str) -> list[tuple[time, time]]:
    """Parse ``"08:30-12:00,13:30-17:30"`` into sorted, non-overlapping (start, end) pairs."""
    text = unicodedata.normalize("NFKC", spec).strip()
    if not text:
        raise ValueError("营业时间不能为空，格式如 08:30-12:00,13:30-17:30")
    windows: list[tuple[time, time]] = []
    for raw_part in _WINDOW_SEPARATORS.split(text):
        part = raw_part.strip()
        if not part:
            continue
        match = _WINDOW.match(part)
        if match is None:
            raise ValueError(f"营业时间格式错误：{part!r}，应为 HH:MM-HH:MM，如 08:30-12:00")
        windows.append((_clock(match[1], match[2], part), _clock(match[3], match[4], part)))
    return _validated(windows)


def _validated(windows: Sequence[tuple[time, time]]) -> list[tuple[time, time]]:
    """``windows`` sorted, each non-empty, none overlapping."""
    if not windows:
        raise ValueError("至少需要一个营业时间段")
    ordered = sorted(windows)
    for start, end in ordered:
        if start >= end:
            raise ValueError(f"营业时间段的开始必须早于结束：{start:%H:%M}-{end:%H:%M}")
    for (_, previous_end), (start, _) in pairwise(ordered):
        if start < previous_end:
            raise ValueError(f"营业时间段重叠：{start:%H:%M} 早于上一段结束 {previous_end:%H:%M}")
    return ordered


class OfficeHours:
    """Open on working days inside the daily windows; a window's end is exclusive."""

    def __init__(
        self,
        windows: Sequence[tuple[time, time]],
        calendar: WorkCalendar,
        tz: tzinfo,
    ) -> None:
        self.windows: tuple[tuple[time, time], ...] = tuple(_validated(windows))
        self.calendar = calendar
        self.tz = tz

    @classmethod
    def parse(cls, spec: str, calendar: WorkCalendar, tz: tzinfo) -> OfficeHours:
        """Office hours from a spec such as ``"08:30-12:00,13:30-17:30"``."""
        return cls(parse_windows(spec), calendar, tz)

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            # A naive time is ambiguous (UTC from Twilio? local from a person?): refuse it.
            raise ValueError("OfficeHours needs an aware datetime")
        return at.astimezone(self.tz)

    def is_open(self, at: datetime) -> bool:
        """Whether operators are on duty at ``at`` (aware)."""
        local = self._local(at)
        if not self.calendar.is_working(local.date()):
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.windows)

    def next_opening(self, at: datetime) -> datetime:
        """The earliest instant at or after ``at`` when the office is open (in ``tz``).

        Returns ``at`` itself (converted to ``tz``) when the office is already open.
        """
        local = self._local(at)
        if self.is_open(local):
            return local
        day: date = local.date()
        for _ in range(_MAX_DAYS_AHEAD):
            if self.calendar.is_working(day):
                for start, _end in self.windows:
                    opening = datetime.combine(day, start, tzinfo=self.tz)
                    if opening >= local:
                        return opening
            day += timedelta(days=1)
        raise RuntimeError(f"{_MAX_DAYS_AHEAD} 天内没有营业时间，请检查工作日设置")
