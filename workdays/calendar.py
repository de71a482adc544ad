"""The working-day calendar (工作日 / 调休): official data, overrides and a provisional fallback.

Three sources, in order of precedence:

1. ``override`` — the administrator's table (``WorkdayOverride`` rows, passed in as a mapping).
2. ``official`` — the ``chinesecalendar`` package, which knows the State Council's yearly
   arrangement including shifted working days (调休), but only for the years it ships data
   for; for any other year it raises ``NotImplementedError``.
3. ``fallback`` — for years without official data: Monday to Friday minus the statutory
   holidays fixed in advance by the national holiday regulations (全国年节及纪念日放假办法,
   as revised with effect from 2025), plus the substitute day the regulations grant when a
   statutory holiday falls on a weekend (补休). The yearly shifted working days cannot be
   predicted, so every fallback answer is marked ``provisional``.

Deadline rule (docs/decisions.md §2): a case received on a non-working day is treated as
received on the next working day (the effective receipt day); "answer within N working days"
means by the N-th working day *after* the effective receipt day (the receipt day itself is not
counted).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Literal

import chinese_calendar
from lunardate import LunarDate

from core import config

DEFAULT_TZ = config.DEFAULT_TZ

Source = Literal["override", "official", "fallback"]

PROVISIONAL_SUFFIX = "（临时推算）"

# chinese_calendar names holidays by English enum values ("National Day"); its own Chinese
# labels are inconsistent ("清明", "端午" without 节), so we keep our own user-facing names.
_HOLIDAY_NAMES: dict[str, str] = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "national_day": "国庆节",
    "mid_autumn_festival": "中秋节",
    "anti_fascist_70th_day": "抗战胜利70周年纪念日",
}

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Override:
    """An administrator's decision that a date is (or is not) a working day."""

    working: bool
    note: str = ""


@dataclass(frozen=True)
class DayInfo:
    """Whether a day is a working day, why, and how sure we are."""

    day: date
    working: bool
    reason: str
    provisional: bool
    source: Source


@dataclass(frozen=True)
class DueDate:
    """A computed date; ``provisional`` if any day consulted came from the fallback."""

    day: date
    provisional: bool


def holiday_name(library_name: str) -> str:
    """Chinese name for a holiday name as returned by ``chinese_calendar``."""
    try:
        member = chinese_calendar.Holiday(library_name)
    except ValueError:
        return library_name
    return _HOLIDAY_NAMES.get(member.name, member.chinese)


@functools.lru_cache(maxsize=8192)
def _official(day: date) -> tuple[bool, str | None] | None:
    """``(working, holiday name)`` from the official data, or ``None`` if the year has none."""
    try:
        working = chinese_calendar.is_workday(day)
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return bool(working), (holiday_name(name) if name else None)


def qingming_day(year: int) -> date:
    """Date of the 清明 solar term (April 4 or 5) for 2000–2099.

    Uses the well-known 寿星 formula ``[Y·D + C] − [Y/4]`` with ``Y = year mod 100``,
    ``D = 0.2422`` and the 21st-century constant ``C = 4.81`` for 清明. chinese_calendar's
    own implementation of the formula lists no correction years for this term; our tests
    check it against published dates (2019–2028) and the official holidays of 2008–2026.
    """
    if not 2000 <= year <= 2099:
        raise ValueError(f"清明 formula only covers 2000–2099, got {year}")
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def _lunar(year: int, month: int, day: int) -> date:
    return LunarDate(year, month, day).to_solar_date()


def statutory_holidays(year: int) -> dict[date, str]:
    """Statutory whole-population holidays of ``year`` under the rules in force since 2025.

    元旦 1 Jan; 春节 除夕 + 正月初一至初三; 清明节; 劳动节 1–2 May; 端午节 五月初五;
    中秋节 八月十五; 国庆节 1–3 Oct. Lunar dates need ``lunardate`` (1900–2099) and 清明
    needs :func:`qingming_day` (2000–2099); outside those ranges they are left out.
    """
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    if 2000 <= year <= 2099:
        new_year = _lunar(year, 1, 1)
        # 除夕 is the day before 正月初一, whether lunar month 12 has 29 or 30 days.
        for offset in range(-1, 3):
            days[new_year + timedelta(days=offset)] = "春节"
        days[qingming_day(year)] = "清明节"
        days[_lunar(year, 5, 5)] = "端午节"
        days[_lunar(year, 8, 15)] = "中秋节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    for day in (1, 2, 3):
        days[date(year, 10, day)] = "国庆节"
    return dict(sorted(days.items()))


@functools.lru_cache(maxsize=64)
def fallback_holidays(year: int) -> Mapping[date, str]:
    """Statutory holidays of ``year`` plus the weekday substitutes for those on a weekend.

    The regulations grant a substitute working day off (补休) for a whole-population holiday
    that falls on a Saturday or Sunday; in practice it is the first following weekday that
    is not itself a holiday, which reproduces the official 2025 and 2026 arrangements.
    """
    statutory = statutory_holidays(year)
    days = dict(statutory)
    for day, name in statutory.items():
        if day.weekday() < 5:
            continue
        substitute = day + _ONE_DAY
        while substitute.weekday() >= 5 or substitute in days:
            substitute += _ONE_DAY
        days[substitute] = f"{name}补休"
    # Read-only because the cached mapping is shared by every caller.
    return MappingProxyType(dict(sorted(days.items())))


def _fallback(day: date) -> tuple[bool, str]:
    name = fallback_holidays(day.year).get(day)
    if name is not None:
        return False, name + PROVISIONAL_SUFFIX
    if day.weekday() >= 5:
        return False, "周末" + PROVISIONAL_SUFFIX
    return True, "工作日" + PROVISIONAL_SUFFIX


class WorkCalendar:
    """Working-day questions for deadlines and office hours.

    Results are cached per instance; build a new calendar when the overrides change.
    """

    def __init__(self, overrides: Mapping[date, Override] | None = None) -> None:
        # Copied so that later changes to the caller's mapping cannot contradict the cache.
        self._overrides: dict[date, Override] = dict(overrides or {})
        self._cache: dict[date, DayInfo] = {}

    def info(self, day: date) -> DayInfo:
        """Everything known about ``day``."""
        if isinstance(day, datetime):
            # A datetime's date depends on the time zone; make the caller choose it.
            raise TypeError("WorkCalendar.info needs a date; convert datetimes with due_date/tz")
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._compute(day)
        return cached

    def _compute(self, day: date) -> DayInfo:
        override = self._overrides.get(day)
        if override is not None:
            reason = f"管理员设定：{override.note}" if override.note else "管理员设定"
            return DayInfo(day, override.working, reason, False, "override")
        official = _official(day)
        if official is not None:
            working, name = official
            if name is None:
                reason = "工作日" if working else "周末"
            else:
                reason = f"调休上班（{name}）" if working else name
            return DayInfo(day, working, reason, False, "official")
        working, reason = _fallback(day)
        return DayInfo(day, working, reason, True, "fallback")

    def is_working(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        return self.info(day).working

    def effective_receipt_day(self, day: date) -> DayInfo:
        """``day`` if it is a working day, else the next working day.

        ``provisional`` is True if any day inspected on the way came from the fallback.
        """
        provisional = False
        current = self.info(day)
        while not current.working:
            provisional = provisional or current.provisional
            current = self.info(current.day + _ONE_DAY)
        return replace(current, provisional=provisional or current.provisional)

    def add_working_days(self, start: date, n: int) -> DueDate:
        """The ``n``-th working day after ``start`` (before it if ``n`` < 0; ``start`` if 0).

        ``start`` itself is never counted, whether or not it is a working day.
        """
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        day = start
        provisional = False
        while remaining:
            day += step
            info = self.info(day)
            provisional = provisional or info.provisional
            if info.working:
                remaining -= 1
        return DueDate(day, provisional)

    def due_date(self, received: date | datetime, n: int, tz: tzinfo | None = None) -> DueDate:
        """Deadline for an answer within ``n`` working days of receipt.

        Aware datetimes are converted to ``tz`` (the hotline's zone; required for them) before
        taking the date; naive datetimes are taken as already local. ``n == 0`` gives the effective
        receipt day itself (an instant answer is due the day the case counts as received).
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if isinstance(received, datetime):
            if received.tzinfo is not None:
                if tz is None:
                    raise ValueError("an aware datetime needs the hotline's time zone (tz)")
                received = received.astimezone(tz)
            received = received.date()
        effective = self.effective_receipt_day(received)
        due = self.add_working_days(effective.day, n)
        return DueDate(due.day, effective.provisional or due.provisional)

    def working_days_between(self, a: date, b: date) -> int:
        """Signed number of working days from ``a`` to ``b`` ("working days left").

        For ``b >= a``: the working days ``d`` with ``a < d <= b`` (0 when ``b == a``).
        For ``b < a``: minus the working days ``d`` with ``b <= d < a``, so a working-day
        deadline that has passed is always negative (due Friday, asked Saturday → −1).
        It is the inverse of :meth:`add_working_days`:
        ``working_days_between(a, add_working_days(a, n).day) == n``.
        """
        if b >= a:
            first, last, sign = a + _ONE_DAY, b, 1
        else:
            first, last, sign = b, a - _ONE_DAY, -1
        count = 0
        day = first
        while day <= last:
            if self.info(day).working:
                count += 1
            day += _ONE_DAY
        return sign * count

    def years_without_data(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` with no official data (they use the fallback)."""
        return sorted({year for year in years if _official(date(year, 1, 1)) is None})
