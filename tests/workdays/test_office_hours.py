"""Office hours: daily windows on working days, in the hotline's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from workdays.calendar import Override, WorkCalendar
from workdays.office_hours import OfficeHours, parse_windows

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPEC = "08:30-12:00,13:30-17:30"


@pytest.fixture
def hours() -> OfficeHours:
    return OfficeHours.parse(SPEC, WorkCalendar(), SHANGHAI)


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_parse_spec() -> None:
    assert parse_windows(SPEC) == [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]


def test_parse_accepts_full_width_punctuation_and_spaces() -> None:
    assert parse_windows("13:30 - 17:30，08：30～12：00") == parse_windows(SPEC)


@pytest.mark.parametrize(
    "spec", ["", " , ", "8:30", "08:30-12", "08:30-25:00", "12:00-08:30", "08:00-12:00,11:00-13:00"]
)
def test_parse_rejects_bad_spec(spec: str) -> None:
    with pytest.raises(ValueError, match="营业时间"):
        parse_windows(spec)


def test_parse_ignores_trailing_separator() -> None:
    assert parse_windows("08:30-12:00,") == [(time(8, 30), time(12, 0))]


def test_open_on_working_day_morning(hours: OfficeHours) -> None:
    assert hours.is_open(_at(2026, 3, 10, 10))


def test_closed_at_lunch(hours: OfficeHours) -> None:
    assert not hours.is_open(_at(2026, 3, 10, 12, 30))


def test_window_end_is_exclusive(hours: OfficeHours) -> None:
    assert not hours.is_open(_at(2026, 3, 10, 12, 0))
    assert hours.is_open(_at(2026, 3, 10, 8, 30))


def test_closed_on_national_day(hours: OfficeHours) -> None:
    assert not hours.is_open(_at(2026, 10, 2, 10))


def test_open_on_shifted_saturday(hours: OfficeHours) -> None:
    assert hours.is_open(_at(2026, 10, 10, 10))


def test_closed_on_ordinary_saturday(hours: OfficeHours) -> None:
    assert not hours.is_open(_at(2026, 3, 14, 10))


def test_utc_datetime_converted_to_shanghai(hours: OfficeHours) -> None:
    # 02:00 UTC is 10:00 in Shanghai (open); 10:00 UTC is 18:00 (closed).
    assert hours.is_open(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 3, 10, 10, 0, tzinfo=UTC))


def test_utc_evening_is_next_local_day(hours: OfficeHours) -> None:
    # 2026-10-09 01:00 UTC = 09:00 on 10-09 in Shanghai (working); 10-08 by UTC date.
    assert hours.is_open(datetime(2026, 10, 9, 1, 0, tzinfo=UTC))


def test_naive_datetime_rejected(hours: OfficeHours) -> None:
    with pytest.raises(ValueError):
        hours.is_open(datetime(2026, 3, 10, 10, 0))


def test_override_closes_a_working_day() -> None:
    calendar = WorkCalendar({date(2026, 3, 10): Override(False, "内部培训")})
    assert not OfficeHours.parse(SPEC, calendar, SHANGHAI).is_open(_at(2026, 3, 10, 10))


def test_next_opening_when_open_is_now(hours: OfficeHours) -> None:
    assert hours.next_opening(_at(2026, 3, 10, 10)) == _at(2026, 3, 10, 10)


def test_next_opening_after_lunch(hours: OfficeHours) -> None:
    assert hours.next_opening(_at(2026, 3, 10, 12, 30)) == _at(2026, 3, 10, 13, 30)


def test_next_opening_after_national_day(hours: OfficeHours) -> None:
    assert hours.next_opening(_at(2026, 9, 30, 18)) == _at(2026, 10, 8, 8, 30)


def test_next_opening_on_shifted_saturday(hours: OfficeHours) -> None:
    assert hours.next_opening(_at(2026, 10, 9, 20)) == _at(2026, 10, 10, 8, 30)


def test_next_opening_from_utc_is_in_local_zone(hours: OfficeHours) -> None:
    opening = hours.next_opening(datetime(2026, 3, 13, 12, 0, tzinfo=UTC))  # Fri 20:00 local
    assert opening == _at(2026, 3, 16, 8, 30)
    assert opening.tzinfo == SHANGHAI


def test_constructor_rejects_empty_windows() -> None:
    with pytest.raises(ValueError):
        OfficeHours([], WorkCalendar(), SHANGHAI)
