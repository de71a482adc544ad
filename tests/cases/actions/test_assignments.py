"""A department's acts (``cases.actions.assignments``): who may act, 退单 back to the queue,
and no reply on a returned assignment."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply, do_return_assignment
from cases.errors import ForbiddenTransition, InvalidInput, NotYourCase
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    actions,
    lead,
    liaison,
    local,
    routed_case,
)


def test_department_cannot_act_on_another_departments_assignment(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"), "区经信局")
    with pytest.raises(NotYourCase) as info:
        do_reply(session, lead(case).id, text="越权答复",
                 actor=liaison(session, "区税务局"), now=local("2026-11-24 10:00"))
    assert info.value.code == "not_your_case"


def test_operator_may_record_a_reply_on_behalf_of_a_department(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    do_reply(session, lead(case).id, text="电话答复已记录", actor=OPERATOR,
             now=local("2026-11-24 10:00"), calendar=CALENDAR)
    assert case.status == "answered"


def test_return_sends_the_case_back_to_the_centres_queue(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"), "区税务局")
    do_return_assignment(session, lead(case).id, reason="属用地问题，非我局职能",
                         actor=liaison(session, "区税务局"),
                         now=local("2026-11-24 11:00"), calendar=CALENDAR)
    assert (case.status, case.assignments[0].state) == ("received", "returned")
    assert case.returned_at == local("2026-11-24 11:00")
    assert case.due_date == date(2026, 11, 24)
    assert actions(session, case)[-2:] == ["assignment_returned", "back_to_queue"]


def test_return_needs_a_reason(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    with pytest.raises(InvalidInput):
        do_return_assignment(session, lead(case).id, reason=" ",
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-24 11:00"))


def test_returned_assignment_cannot_reply(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    assignment = lead(case)
    do_return_assignment(session, assignment.id, reason="非我局职能",
                         actor=liaison(session, "区经信局"),
                         now=local("2026-11-24 10:00"), calendar=CALENDAR)
    with pytest.raises(ForbiddenTransition):
        do_reply(session, assignment.id, text="答复", actor=liaison(session, "区经信局"),
                 now=local("2026-11-24 11:00"))
