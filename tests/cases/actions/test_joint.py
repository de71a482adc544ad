"""专班商办 (``cases.actions.joint``): deadlines from the planned and the held meeting, the
answer rule, who may start it and which units may handle."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply
from cases.actions.joint import do_record_meeting_held, do_start_joint_handling
from cases.errors import InvalidInput, NotAllowed
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    department_id,
    liaison,
    local,
    new_case,
)


def test_joint_handling_is_due_five_working_days_after_the_planned_meeting(
    session: Session,
) -> None:
    now = local("2026-09-28 09:00")
    case = new_case(session, now)
    ids = [department_id(session, n) for n in ("区经信局", "区自然资源规划分局")]
    do_start_joint_handling(session, case.id, department_ids=ids,
                            meeting_at=local("2026-09-29 14:00"), actor=SUPERVISOR,
                            now=now, calendar=CALENDAR)
    assert (case.mode, case.due_date) == ("joint", date(2026, 10, 12))
    assert [(a.role, a.due_date) for a in case.assignments] == [
        ("lead", date(2026, 10, 12)), ("co", date(2026, 10, 12))]


def test_meeting_held_later_recounts_the_deadline(session: Session) -> None:
    now = local("2026-09-28 09:00")
    case = new_case(session, now)
    ids = [department_id(session, n) for n in ("区经信局", "区自然资源规划分局")]
    do_start_joint_handling(session, case.id, department_ids=ids,
                            meeting_at=local("2026-09-29 14:00"), actor=SUPERVISOR,
                            now=now, calendar=CALENDAR)
    do_record_meeting_held(session, case.id, held_at=local("2026-10-08 14:00"),
                           attendees=["区经信局", "区自然资源规划分局", "区委作风办"],
                           minutes="明确由规划分局牵头", actor=SUPERVISOR,
                           now=local("2026-10-08 18:00"), calendar=CALENDAR)
    # 10-09, 10-10 (调休), 10-12, 10-13, 10-14.
    assert case.due_date == date(2026, 10, 14)
    assert case.meetings[0].attendees[-1] == "区委作风办"


def test_joint_case_is_answered_only_when_every_unit_replied(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    names = ("区经信局", "区自然资源规划分局")
    do_start_joint_handling(
        session, case.id, department_ids=[department_id(session, n) for n in names],
        meeting_at=now, actor=SUPERVISOR, now=now, calendar=CALENDAR)
    first, second = case.assignments
    do_reply(session, first.id, text="经信局意见", actor=liaison(session, names[0]),
             now=now, calendar=CALENDAR)
    assert case.status == "handling"
    do_reply(session, second.id, text="规划分局意见", actor=liaison(session, names[1]),
             now=now, calendar=CALENDAR)
    assert case.status == "answered"


def test_joint_handling_needs_two_units(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    with pytest.raises(InvalidInput, match="两个"):
        do_start_joint_handling(
            session, case.id, department_ids=[department_id(session, "区经信局")],
            meeting_at=now, actor=SUPERVISOR, now=now, calendar=CALENDAR)


def test_joint_handling_is_for_the_task_force_only(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    ids = [department_id(session, n) for n in ("区经信局", "区发改局")]
    with pytest.raises(NotAllowed, match="启动专班商办"):
        do_start_joint_handling(session, case.id, department_ids=ids, meeting_at=now,
                                actor=OPERATOR, now=now, calendar=CALENDAR)
    assert case.status == "received"


def test_joint_lead_is_chosen_and_attending_bodies_never_handle(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    first, chosen = (department_id(session, n) for n in ("区经信局", "区发改局"))
    oversight = department_id(session, "区纪委区监委")
    with pytest.raises(InvalidInput, match="列席监督单位"):
        do_start_joint_handling(session, case.id, department_ids=[first, oversight],
                                meeting_at=now, actor=SUPERVISOR, now=now,
                                calendar=CALENDAR)
    with pytest.raises(InvalidInput):
        do_start_joint_handling(session, case.id, department_ids=[first, chosen],
                                lead_department_id=oversight, meeting_at=now,
                                actor=SUPERVISOR, now=now, calendar=CALENDAR)
    do_start_joint_handling(session, case.id, department_ids=[first, chosen],
                            lead_department_id=chosen, meeting_at=now,
                            actor=SUPERVISOR, now=now, calendar=CALENDAR)
    assert [(a.department_id, a.role) for a in case.assignments] == [
        (chosen, "lead"), (first, "co")]
