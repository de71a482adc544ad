"""When follow-up calls happen: next working day, calling window, holidays, retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.db import db
from followup import jobs as followup_jobs
from followup.models import FollowUpStatus
from followup.policy import FollowUpPolicy
from tests.cases.factories import actions, local
from tests.followup.support import answered_case, case, followup_of
from workdays.calendar import WorkCalendar

CALENDAR = WorkCalendar()
POLICY = FollowUpPolicy()


def test_default_is_the_next_working_day_at_half_past_nine() -> None:
    # Tuesday → Wednesday; Friday → Monday; the day before National Day → after the holiday.
    assert POLICY.first_attempt_at(local("2026-11-24 16:00"), CALENDAR) == local(
        "2026-11-25 09:30")
    assert POLICY.first_attempt_at(local("2026-11-27 11:00"), CALENDAR) == local(
        "2026-11-30 09:30")
    assert POLICY.first_attempt_at(local("2026-09-30 15:00"), CALENDAR) == local(
        "2026-10-08 09:30")


def test_a_call_due_on_a_holiday_saturday_waits_for_the_first_window_after_it() -> None:
    # 2026-10-03 is a Saturday in the National Day holiday; the 8th is the first working day.
    policy = FollowUpPolicy.from_config({"FOLLOWUP_DELAY": "24h"})
    assert policy.first_attempt_at(local("2026-10-02 09:30"), CALENDAR) == local(
        "2026-10-08 09:00")
    hours = policy.hours(CALENDAR)
    assert hours.next_opening(local("2026-10-03 09:30")) == local("2026-10-08 09:00")
    assert not hours.is_open(local("2026-10-03 10:00"))


@pytest.mark.parametrize(("when", "opening"), [
    ("2026-11-25 08:00", "2026-11-25 09:00"),   # before the morning window
    ("2026-11-25 12:30", "2026-11-25 14:00"),   # lunch
    ("2026-11-25 20:00", "2026-11-26 09:00"),   # the window's end is exclusive: never at night
    ("2026-11-28 10:00", "2026-11-30 09:00"),   # Saturday
])
def test_calls_only_inside_the_calling_window(when: str, opening: str) -> None:
    assert POLICY.hours(CALENDAR).next_opening(local(when)) == local(opening)


def test_three_attempts_over_two_working_days() -> None:
    first = local("2026-11-27 09:30")  # Friday
    second = POLICY.retry_at(first, first + timedelta(minutes=1), 1, CALENDAR)
    assert second == local("2026-11-27 14:00")  # 4 h later is lunch: the afternoon window
    third = POLICY.retry_at(first, second, 2, CALENDAR)
    assert third == local("2026-11-30 09:00")  # 24 h later is Saturday: Monday's first window
    assert POLICY.retry_at(first, third, 3, CALENDAR) is None


def test_no_attempt_beyond_the_second_working_day() -> None:
    first = local("2026-11-24 19:30")
    second = POLICY.retry_at(first, first, 1, CALENDAR)
    assert second == local("2026-11-25 09:00")
    assert POLICY.retry_at(first, second, 2, CALENDAR) is None  # Thursday is the third day


def test_settings_are_read_and_checked() -> None:
    policy = FollowUpPolicy.from_config({
        "FOLLOWUP_WINDOWS": "10:00-11:00", "FOLLOWUP_DELAY": "next-working-day 10:15",
        "FOLLOWUP_MAX_ATTEMPTS": 2, "FOLLOWUP_RETRY_DELAYS": [60],
        "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN_IS_LOCAL": True})
    assert policy.windows[0][0].hour == 10 and policy.max_attempts == 2
    assert policy.auto_calls is False  # no real account: operators call instead
    assert policy.first_attempt_at(local("2026-11-24 16:00"), CALENDAR) == local(
        "2026-11-25 10:15")
    with pytest.raises(ValueError, match="FOLLOWUP_DELAY"):
        FollowUpPolicy.from_config({"FOLLOWUP_DELAY": "tomorrow"})
    with pytest.raises(ValueError, match="格式错误"):
        FollowUpPolicy.from_config({"FOLLOWUP_WINDOWS": "9-12"})


def test_answer_creates_a_follow_up_that_a_job_schedules(jobs: Any, clock: Any) -> None:
    case_id = answered_case(local("2026-09-30 15:00"))
    assert followup_of(case_id).status == FollowUpStatus.NEW
    clock.set_local("2026-09-30 15:01")
    assert followup_jobs.schedule_followup(followup_of(case_id).id) == "scheduled"
    followup = followup_of(case_id)
    assert followup.next_attempt_at == local("2026-10-08 09:30")
    assert followup_jobs.schedule_followup(followup.id) == "scheduled"  # idempotent
    loaded = case(case_id)
    assert actions(db.session(), loaded).count("followup_scheduled") == 1


def test_follow_up_due_on_holiday_saturday_is_called_thursday_at_nine(
        app_config: dict[str, Any], jobs: Any, clock: Any) -> None:
    jobs.config["FOLLOWUP_DELAY"] = "24h"
    case_id = answered_case(local("2026-10-02 09:30"))
    clock.set_local("2026-10-02 09:31")
    followup_jobs.schedule_followup(followup_of(case_id).id)
    assert followup_of(case_id).next_attempt_at == local("2026-10-08 09:00")


def test_without_a_phone_or_automatic_calls_an_operator_calls(jobs: Any, clock: Any) -> None:
    no_phone = answered_case(local("2026-11-24 10:00"), phone=None)
    followup_jobs.schedule_followup(followup_of(no_phone).id)
    assert (followup_of(no_phone).status, followup_of(no_phone).operator_reason) == (
        "operator", "企业未留联系电话")
    jobs.config["FOLLOWUP_AUTO_CALLS"] = False
    off = answered_case(local("2026-11-24 10:00"))
    followup_jobs.schedule_followup(followup_of(off).id)
    assert (followup_of(off).status, followup_of(off).operator_reason) == (
        "operator", "未开通自动回访")
