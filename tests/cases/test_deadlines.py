"""Due dates on the working-day calendar: National Day 2026, Spring Festival, into 2027."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cases.deadlines import Deadlines, spoken_date
from core.db import db
from tests.cases.factories import CALENDAR, local, new_case
from workdays.calendar import Override, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINES = Deadlines(CALENDAR, SHANGHAI)


def test_routed_before_national_day_skips_the_holiday() -> None:
    due = DEADLINES.routed(local("2026-09-30 09:00"))
    assert (due.day, due.provisional) == (date(2026, 10, 9), False)


def test_routed_after_national_day_is_due_on_the_shifted_saturday() -> None:
    assert DEADLINES.routed(local("2026-10-08 09:00")).day == date(2026, 10, 10)


def test_case_received_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert DEADLINES.same_day(local("2026-10-03 22:00")).day == date(2026, 10, 8)
    assert DEADLINES.routed(local("2026-10-03 22:00")).day == date(2026, 10, 10)


def test_local_midnight_decides_the_day_not_utc() -> None:
    # 2026-10-07 23:30 UTC is already the 8th in Shanghai.
    assert DEADLINES.local_date(local("2026-10-08 07:30")) == date(2026, 10, 8)


def test_joint_deadline_is_five_working_days_after_the_meeting() -> None:
    assert DEADLINES.joint(date(2026, 9, 29)).day == date(2026, 10, 12)


def test_routed_before_spring_festival_waits_for_the_holiday_to_end() -> None:
    # 2026: 2月15日至23日放假, 2月14日（周六）、2月28日（周六）上班.
    assert DEADLINES.routed(local("2026-02-13 10:00")).day == date(2026, 2, 24)


def test_spring_festival_shifted_saturday_counts() -> None:
    assert DEADLINES.routed(local("2026-02-12 10:00")).day == date(2026, 2, 14)


def test_deadline_in_2027_is_provisional() -> None:
    due = DEADLINES.routed(local("2026-12-30 10:00"))
    assert (due.day, due.provisional) == (date(2027, 1, 4), True)


def test_administrator_override_moves_the_deadline() -> None:
    calendar = WorkCalendar({date(2027, 1, 4): Override(False, "测试调整")})
    assert Deadlines(calendar, SHANGHAI).routed(local("2026-12-30 10:00")).day == date(2027, 1, 5)


def test_agreed_deadline_replaces_the_rule_and_keeps_the_reason() -> None:
    agreed = Deadlines.agreed(date(2026, 12, 1), "需现场踏勘")
    assert (agreed.day, agreed.provisional) == (date(2026, 12, 1), False)
    assert "需现场踏勘" in agreed.reason


def test_overdue_only_after_the_whole_due_day() -> None:
    assert not DEADLINES.is_overdue(date(2026, 10, 10), local("2026-10-10 23:59"))
    assert DEADLINES.is_overdue(date(2026, 10, 10), local("2026-10-11 00:00"))


def test_spoken_date_adds_the_year_only_when_it_differs() -> None:
    assert spoken_date(date(2026, 11, 30), date(2026, 11, 24)) == "11月30日"
    assert spoken_date(date(2027, 1, 4), date(2026, 12, 30)) == "2027年1月4日"


def test_the_working_day_ends_at_exactly_the_close_of_business() -> None:
    # Tuesday 24 Nov 2026, office hours 08:30-12:00,13:30-17:30: up to 17:29:59.999999 the
    # centre's target is the same day; at 17:30:00 the centre has closed, so the next one.
    last_moment = local("2026-11-24 17:29").replace(second=59, microsecond=999999)
    assert DEADLINES.same_day(last_moment).day == date(2026, 11, 24)
    closed = DEADLINES.same_day(local("2026-11-24 17:30"))
    assert (closed.day, closed.reason) == (date(2026, 11, 25),
                                           "非工作时间受理：次一工作日下班前答复或流转")


@pytest.fixture
def later_office(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["OFFICE_HOURS"] = "09:00-12:00,13:00-18:00"
    return app_config


def test_the_close_of_business_follows_office_hours(later_office: dict[str, Any],
                                                    app: Any) -> None:
    session = db.session()
    assert new_case(session, local("2026-11-24 17:45")).due_date == date(2026, 11, 24)
    assert new_case(session, local("2026-11-24 18:00")).due_date == date(2026, 11, 25)
