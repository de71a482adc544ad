"""Working-day calendar: official data, fallback, overrides and the deadline rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from workdays.calendar import (
    DayInfo,
    DueDate,
    Override,
    WorkCalendar,
    fallback_holidays,
    holiday_name,
    qingming_day,
    statutory_holidays,
)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- official data -------------------------------------------------------------------------


def test_national_day_week_2026_is_not_working(calendar: WorkCalendar) -> None:
    assert [calendar.is_working(d) for d in _days(date(2026, 10, 1), date(2026, 10, 7))] == [
        False
    ] * 7


def test_saturday_2026_10_10_is_a_shifted_working_day(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2026, 10, 10)) == DayInfo(
        date(2026, 10, 10), True, "调休上班（国庆节）", False, "official"
    )


def test_official_holiday_reason_is_chinese_name(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2026, 10, 1)).reason == "国庆节"


def test_plain_weekday_and_weekend_reasons(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2026, 3, 10)).reason == "工作日"
    assert calendar.info(date(2026, 3, 14)).reason == "周末"


def test_spring_festival_2026_holidays(calendar: WorkCalendar) -> None:
    # 2026-02-15 (Sun) to 02-23 (Mon): 除夕 is 02-16, 正月初一 02-17.
    days = _days(date(2026, 2, 15), date(2026, 2, 23))
    assert [calendar.is_working(d) for d in days] == [False] * 9
    assert {calendar.info(d).reason for d in days} == {"春节"}


def test_spring_festival_2026_shifted_saturdays(calendar: WorkCalendar) -> None:
    assert calendar.is_working(date(2026, 2, 14))
    assert calendar.is_working(date(2026, 2, 28))
    assert calendar.info(date(2026, 2, 28)).reason == "调休上班（春节）"


def test_spring_festival_2026_due_date_skips_the_holiday(calendar: WorkCalendar) -> None:
    # Friday 02-13 is working; 14 (Sat) is a shifted working day; 15–23 off; 24 working.
    assert calendar.due_date(date(2026, 2, 13), 2) == DueDate(date(2026, 2, 24), False)


def test_received_during_spring_festival_counts_from_first_working_day(
    calendar: WorkCalendar,
) -> None:
    # Effective receipt 02-24 (Tue); +2 working days → 02-26 (Thu).
    assert calendar.due_date(date(2026, 2, 17), 2) == DueDate(date(2026, 2, 26), False)


def test_every_library_holiday_name_has_a_chinese_translation() -> None:
    for member in chinese_calendar.Holiday:
        assert holiday_name(member.value) != member.value


def test_unknown_library_name_is_passed_through() -> None:
    assert holiday_name("Some Future Day") == "Some Future Day"


# --- deadline rule -------------------------------------------------------------------------


def test_due_after_year_without_data_is_provisional(calendar: WorkCalendar) -> None:
    # Wed 2026-12-30 working; +1 → Thu 12-31; Fri 2027-01-01 元旦, Sat, Sun; +2 → Mon 01-04.
    assert calendar.due_date(date(2026, 12, 30), 2) == DueDate(date(2027, 1, 4), True)


def test_due_within_official_data_is_not_provisional(calendar: WorkCalendar) -> None:
    assert calendar.due_date(date(2026, 3, 10), 2) == DueDate(date(2026, 3, 12), False)


def test_received_on_sunday_counts_from_monday(calendar: WorkCalendar) -> None:
    sunday, monday = date(2026, 3, 15), date(2026, 3, 16)
    assert calendar.due_date(sunday, 2) == calendar.due_date(monday, 2)
    assert calendar.due_date(sunday, 2).day == date(2026, 3, 18)


def test_received_during_national_day_due_on_shifted_saturday(calendar: WorkCalendar) -> None:
    # Effective receipt Thu 10-08 (not counted); +1 Fri 10-09; +2 Sat 10-10 (调休上班).
    assert calendar.due_date(date(2026, 10, 3), 2) == DueDate(date(2026, 10, 10), False)


def test_zero_days_is_the_effective_receipt_day(calendar: WorkCalendar) -> None:
    assert calendar.due_date(date(2026, 10, 3), 0).day == date(2026, 10, 8)
    assert calendar.due_date(date(2026, 10, 9), 0).day == date(2026, 10, 9)


def test_negative_days_rejected(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        calendar.due_date(date(2026, 3, 10), -1)


def test_aware_utc_datetime_converted_to_shanghai(calendar: WorkCalendar) -> None:
    # Mon 2026-03-09 20:00 UTC is Tue 03-10 04:00 in Shanghai.
    received = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    assert calendar.due_date(received, 0, tz=ZoneInfo("Asia/Shanghai")).day == date(2026, 3, 10)


def test_an_aware_datetime_without_a_zone_is_refused(calendar: WorkCalendar) -> None:
    """No silent default zone: the caller passes the hotline's (HOTLINE_TZ)."""
    with pytest.raises(ValueError, match="time zone"):
        calendar.due_date(datetime(2026, 3, 9, 20, 0, tzinfo=UTC), 0)


def test_utc_evening_before_working_day_counts_from_that_day(calendar: WorkCalendar) -> None:
    # 2026-10-07 18:00 UTC (a holiday in UTC terms) is 10-08 02:00 in Shanghai, working.
    received = datetime(2026, 10, 7, 18, 0, tzinfo=UTC)
    assert calendar.due_date(received, 2, tz=ZoneInfo("Asia/Shanghai")).day == date(2026, 10, 10)


def test_aware_datetime_uses_given_tz(calendar: WorkCalendar) -> None:
    # Tue 2026-03-10 07:00 in Shanghai is still Mon 03-09 in UTC.
    received = datetime(2026, 3, 10, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert calendar.due_date(received, 0, tz=UTC).day == date(2026, 3, 9)


def test_naive_datetime_taken_as_local(calendar: WorkCalendar) -> None:
    assert calendar.due_date(datetime(2026, 10, 7, 23, 0), 0).day == date(2026, 10, 8)


def test_info_rejects_datetime(calendar: WorkCalendar) -> None:
    with pytest.raises(TypeError):
        calendar.info(datetime(2026, 10, 7, 23, 0, tzinfo=UTC))


def test_effective_receipt_day_of_a_working_day_is_itself(calendar: WorkCalendar) -> None:
    assert calendar.effective_receipt_day(date(2026, 10, 10)).day == date(2026, 10, 10)


def test_effective_receipt_day_skips_holidays(calendar: WorkCalendar) -> None:
    assert calendar.effective_receipt_day(date(2026, 10, 1)).day == date(2026, 10, 8)


def test_effective_receipt_provisional_when_skipping_fallback_days(
    calendar: WorkCalendar,
) -> None:
    info = calendar.effective_receipt_day(date(2027, 1, 1))
    assert (info.day, info.provisional) == (date(2027, 1, 4), True)


def test_add_working_days_does_not_count_start(calendar: WorkCalendar) -> None:
    assert calendar.add_working_days(date(2026, 3, 13), 1).day == date(2026, 3, 16)


def test_add_working_days_backwards(calendar: WorkCalendar) -> None:
    # One working day before Thu 10-08 is Wed 09-30 (10-01..07 off).
    assert calendar.add_working_days(date(2026, 10, 8), -1).day == date(2026, 9, 30)


# --- working days between ----------------------------------------------------------------


def test_working_days_between_same_day_is_zero(calendar: WorkCalendar) -> None:
    assert calendar.working_days_between(date(2026, 10, 9), date(2026, 10, 9)) == 0


def test_working_days_between_counts_shifted_saturday(calendar: WorkCalendar) -> None:
    # From Thu 10-08 to Mon 10-12: 09, 10 (Sat, working), 12.
    assert calendar.working_days_between(date(2026, 10, 8), date(2026, 10, 12)) == 3


def test_working_days_between_overdue_is_negative(calendar: WorkCalendar) -> None:
    # Due Fri 03-13, asked Sat 03-14: one working day (the due day) has passed.
    assert calendar.working_days_between(date(2026, 3, 14), date(2026, 3, 13)) == -1


def test_working_days_between_is_inverse_of_add(calendar: WorkCalendar) -> None:
    start = date(2026, 9, 28)
    for n in range(-12, 13):
        target = calendar.add_working_days(start, n).day
        assert calendar.working_days_between(start, target) == n


# --- overrides -----------------------------------------------------------------------------


def test_override_makes_official_holiday_working() -> None:
    calendar = WorkCalendar({date(2026, 10, 2): Override(True, "值班")})
    assert calendar.info(date(2026, 10, 2)) == DayInfo(
        date(2026, 10, 2), True, "管理员设定：值班", False, "override"
    )


def test_override_makes_working_day_off() -> None:
    calendar = WorkCalendar({date(2026, 3, 10): Override(False, "")})
    assert not calendar.is_working(date(2026, 3, 10))
    assert calendar.info(date(2026, 3, 10)).reason == "管理员设定"


def test_override_in_fallback_year_is_not_provisional() -> None:
    calendar = WorkCalendar({date(2027, 1, 1): Override(False, "元旦")})
    info = calendar.info(date(2027, 1, 1))
    assert (info.source, info.provisional) == ("override", False)


def test_override_changes_due_date() -> None:
    calendar = WorkCalendar({date(2026, 3, 11): Override(False, "停电检修")})
    assert calendar.due_date(date(2026, 3, 10), 2).day == date(2026, 3, 13)


def test_overrides_copied_at_construction() -> None:
    overrides = {date(2026, 3, 10): Override(False, "")}
    calendar = WorkCalendar(overrides)
    overrides.clear()
    assert not calendar.is_working(date(2026, 3, 10))


# --- fallback ------------------------------------------------------------------------------


def test_years_without_data(calendar: WorkCalendar) -> None:
    assert calendar.years_without_data([2027, 2025, 2026, 2030, 2027]) == [2027, 2030]


def test_fallback_day_is_provisional(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2027, 3, 10)) == DayInfo(
        date(2027, 3, 10), True, "工作日（临时推算）", True, "fallback"
    )


def test_fallback_new_year(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2027, 1, 1)).reason == "元旦（临时推算）"


def test_fallback_spring_festival_2027(calendar: WorkCalendar) -> None:
    # 正月初一 2027 is Sat 02-06: 除夕 Fri 02-05 … 初三 Mon 02-08; Sat/Sun → 补休 Tue, Wed.
    assert fallback_holidays(2027)[date(2027, 2, 5)] == "春节"
    assert [calendar.is_working(d) for d in _days(date(2027, 2, 5), date(2027, 2, 11))] == [
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_fallback_substitute_day_reason() -> None:
    # 2027-10-02/03 fall on the weekend → Mon 10-04, Tue 10-05.
    assert fallback_holidays(2027)[date(2027, 10, 4)] == "国庆节补休"
    assert date(2027, 10, 6) not in fallback_holidays(2027)


def test_statutory_holidays_count() -> None:
    # 13 days since the 2025 revision: 元旦1 春节4 清明1 劳动2 端午1 中秋1 国庆3
    # (fewer distinct dates in years when 中秋 falls on 10-01..03; not in 2027).
    assert len(statutory_holidays(2027)) == 13


def test_fallback_years_include_mid_autumn(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2027, 9, 15)).reason == "中秋节（临时推算）"


@pytest.mark.parametrize(
    ("year", "day"),
    [(2019, 5), (2020, 4), (2023, 5), (2024, 4), (2025, 4), (2026, 5), (2027, 5), (2028, 4)],
)
def test_qingming_formula_known_dates(year: int, day: int) -> None:
    assert qingming_day(year) == date(year, 4, day)


def test_qingming_is_an_official_holiday_every_year_since_2008() -> None:
    # 清明 became a statutory holiday in 2008.
    for year in range(2008, 2027):
        assert not chinese_calendar.is_workday(qingming_day(year)), year


@pytest.mark.parametrize("year", [2025, 2026])
def test_fallback_predictions_are_official_holidays(year: int) -> None:
    for day in fallback_holidays(year):
        assert not chinese_calendar.is_workday(day), day


@pytest.mark.parametrize("year", [2025, 2026])
def test_fallback_matches_official_weekday_holidays_exactly(year: int) -> None:
    # Official weekday holidays, minus days off paid back by a shifted working day (in lieu),
    # are exactly the statutory holidays and their substitutes that fall on weekdays.
    official = {
        day
        for day in _days(date(year, 1, 1), date(year, 12, 31))
        if day.weekday() < 5
        and not chinese_calendar.is_workday(day)
        and not chinese_calendar.is_in_lieu(day)
    }
    predicted = {day for day in fallback_holidays(year) if day.weekday() < 5}
    assert predicted == official


def test_spring_festival_rule_is_new_years_eve_plus_three_days() -> None:
    # The 2025 revision: 除夕 + 初一..初三. 2025: 除夕 01-28, 初一 01-29.
    spring = [d for d, name in statutory_holidays(2025).items() if name == "春节"]
    assert spring == _days(date(2025, 1, 28), date(2025, 1, 31))


def test_cache_returns_same_object(calendar: WorkCalendar) -> None:
    assert calendar.info(date(2026, 10, 1)) is calendar.info(date(2026, 10, 1))
