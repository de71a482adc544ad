"""The centre's first target: the day received, or the next working day when received out of
hours; after a 退单 the day the case came back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actions.assignments import do_return_assignment
from cases.case_models import Case
from core.db import db
from tests.cases.factories import CALENDAR, local, new_case, routed_case
from tests.cases.factories import liaison as liaison_of


@pytest.mark.parametrize(("left_at", "due", "reason"), [
    # Friday night: Monday.
    ("2026-11-27 22:30", date(2026, 11, 30), "非工作时间受理：次一工作日下班前答复或流转"),
    # Eve of National Day (Wed 30 Sep): the first working day after the holiday, Thu 8 Oct.
    ("2026-09-30 22:30", date(2026, 10, 8), "非工作时间受理：次一工作日下班前答复或流转"),
    # A Sunday morning: Monday.
    ("2026-11-29 09:00", date(2026, 11, 30), "非工作时间受理：次一工作日下班前答复或流转"),
    # In office hours: the same day.
    ("2026-11-24 10:00", date(2026, 11, 24), "受理当日答复或流转"),
])
def test_voicemail_gets_the_right_first_target(phone: Any, clock: Any, voicemail_wav: Path,
                                               left_at: str, due: date, reason: str) -> None:
    clock.set_local(left_at)
    outcome = phone.call(keys=["2"], voicemail=voicemail_wav)
    assert outcome.recording_sid
    db.session.rollback()
    case = db.session.scalars(select(Case)).one()
    assert (case.due_date, case.due_reason) == (due, reason)


def test_after_close_of_business_on_a_working_day_counts_from_the_next(session: Session
                                                                       ) -> None:
    case = new_case(session, local("2026-11-24 17:45"))  # Tuesday, after 17:30
    assert case.due_date == date(2026, 11, 25)


def test_a_return_sets_the_target_to_the_day_it_came_back(session: Session) -> None:
    case = routed_case(session, local("2026-11-23 10:00"))  # received and routed Monday
    do_return_assignment(session, case.assignments[0].id, reason="非本单位职责",
                         actor=liaison_of(session, "区经信局"),
                         now=local("2026-11-25 11:00"), calendar=CALENDAR)
    assert (case.status, case.due_date, case.due_reason) == (
        "received", date(2026, 11, 25), "退单后重新交办：退回当日")


def test_a_return_in_the_evening_is_due_the_next_working_day(session: Session) -> None:
    case = routed_case(session, local("2026-11-27 10:00"))  # Friday
    do_return_assignment(session, case.assignments[0].id, reason="非本单位职责",
                         actor=liaison_of(session, "区经信局"),
                         now=local("2026-11-27 19:00"), calendar=CALENDAR)
    assert case.due_date == date(2026, 11, 30)
