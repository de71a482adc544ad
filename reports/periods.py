"""Reporting periods: a month, a quarter, a year or any two dates (both included)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta


class PeriodError(ValueError):
    """A period that cannot be read; the message is shown to users (Chinese)."""


# Periods the reports accept: the hotline's records, with room on both sides. Out of it, a
# date cannot be computed (year 0, the day after 9999-12-31), nor is there anything to show.
FIRST_YEAR, LAST_YEAR = 2000, 2099
OUT_OF_RANGE = f"统计周期应在{FIRST_YEAR}年至{LAST_YEAR}年之间"


def _check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(OUT_OF_RANGE)
    return year


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        _check_year(self.start.year)
        _check_year(self.end.year)
        if self.end < self.start:
            raise PeriodError("结束日期不能早于开始日期")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before, of the same kind (month → month, else the same length)."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            months = _months_between(self.start, self.end + timedelta(days=1))
            start = _add_months(self.start, -months)
            return Period(start, self.start - timedelta(days=1), _label(start, months))
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        return Period(start, end, f"{start:%Y-%m-%d}至{end:%Y-%m-%d}")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(start: date, end_exclusive: date) -> int:
    return (end_exclusive.year - start.year) * 12 + end_exclusive.month - start.month


def _label(start: date, months: int) -> str:
    if months == 1:
        return f"{start.year}年{start.month}月"
    if months == 3 and start.month % 3 == 1:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    if months == 12 and start.month == 1:
        return f"{start.year}年"
    return f"{start:%Y-%m}起{months}个月"


def month(year: int, month_number: int) -> Period:
    start = date(_check_year(year), month_number, 1)
    return Period(start, _add_months(start, 1) - timedelta(days=1), _label(start, 1))


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise PeriodError("季度应为1至4")
    start = date(_check_year(year), 3 * number - 2, 1)
    return Period(start, _add_months(start, 3) - timedelta(days=1), _label(start, 3))


def year(number: int) -> Period:
    _check_year(number)
    return Period(date(number, 1, 1), date(number, 12, 31), f"{number}年")


def custom(start: date, end: date) -> Period:
    """Any two dates; whole months (a quarter, a year) keep their usual names."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1 and start <= end:
        return Period(start, end, _label(start, _months_between(start, end + timedelta(days=1))))
    return Period(start, end, f"{start:%Y-%m-%d}至{end:%Y-%m-%d}")


def last_months(end_month: Period, count: int) -> list[Period]:
    """``count`` months ending with ``end_month`` (oldest first), for trend charts."""
    first = _add_months(end_month.start, -(count - 1))
    return [month(_add_months(first, i).year, _add_months(first, i).month) for i in range(count)]


def parse_date(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"日期格式应为YYYY-MM-DD：{text}") from None
    _check_year(day.year)
    return day


def parse_month(text: str) -> Period:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"月份格式应为YYYY-MM：{text}")
    return month(int(found.group(1)), int(found.group(2)))


def parse(kind: str, value: str, start: str = "", end: str = "") -> Period:
    """The console's period picker: ``month=2026-11``, ``quarter=2026-4``, ``year=2026``,
    or ``custom`` with two dates."""
    if kind == "month":
        return parse_month(value)
    if kind == "quarter":
        found = re.fullmatch(r"(\d{4})-Q?([1-4])", value.strip(), re.IGNORECASE)
        if not found:
            raise PeriodError(f"季度格式应为YYYY-Q1：{value}")
        return quarter(int(found.group(1)), int(found.group(2)))
    if kind == "year":
        if not value.strip().isdigit():
            raise PeriodError(f"年份格式应为YYYY：{value}")
        return year(int(value))
    if kind == "custom":
        return custom(parse_date(start), parse_date(end))
    raise PeriodError("未知的统计周期")
