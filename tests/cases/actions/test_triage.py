"""The centre's triage (``cases.actions.triage``): 即时办 and 流转办 with their deadlines,
routing refused, and routing again after a 退单."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.assignments import do_accept_assignment, do_reply, do_return_assignment
from cases.actions.triage import do_answer_instantly, do_reroute, do_route_to_department
from cases.errors import InvalidInput, NotAllowed
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    actions,
    department_id,
    lead,
    liaison,
    local,
    new_case,
    routed_case,
)


def test_instant_answer_closes_the_triage_the_same_day(session: Session) -> None:
    now = local("2026-11-24 10:00")
    case = new_case(session, now)
    do_answer_instantly(session, case.id, text="可在政务网自助办理", actor=OPERATOR,
                        now=now, calendar=CALENDAR)
    assert (case.mode, case.status, case.answered_on, case.due_date) == (
        "instant", "answered", date(2026, 11, 24), date(2026, 11, 24))
    assert case.replies[0].text == "可在政务网自助办理"
    assert actions(session, case) == ["filed", "answered_instantly"]


def test_instant_answer_on_a_later_day_is_late_but_not_hanging(session: Session) -> None:
    case = new_case(session, local("2026-11-24 15:00"))
    do_answer_instantly(session, case.id, text="已告知", actor=OPERATOR,
                        now=local("2026-11-25 09:00"), calendar=CALENDAR)
    assert case.answered_on > case.due_date  # type: ignore[operator]
    assert case.ledger_state == "open"


def test_routed_case_is_due_two_working_days_after_routing(session: Session) -> None:
    now = local("2026-10-08 09:00")
    case = new_case(session, now)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区经信局"),
                           actor=OPERATOR, now=now, calendar=CALENDAR)
    assert (case.mode, case.status, case.due_date) == ("routed", "handling", date(2026, 10, 10))
    assignment = lead(case)
    assert (assignment.state, assignment.due_date) == ("pending", date(2026, 10, 10))


def test_routed_case_is_answered_by_the_lead_reply(session: Session) -> None:
    now = local("2026-10-08 09:00")
    case = new_case(session, now)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区经信局"),
                           actor=OPERATOR, now=now, calendar=CALENDAR)
    do_accept_assignment(session, lead(case).id, actor=liaison(session, "区经信局"),
                         now=now)
    do_reply(session, lead(case).id, text="已协调供电公司增容",
             actor=liaison(session, "区经信局"), now=local("2026-10-10 16:00"),
             calendar=CALENDAR)
    assert (case.status, case.ledger_state, case.answered_on) == (
        "answered", "open", date(2026, 10, 10))
    assert actions(session, case) == ["filed", "routed", "assignment_accepted", "replied",
                                      "answered"]


def test_routing_to_an_unknown_department_is_refused(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    with pytest.raises(InvalidInput):
        do_route_to_department(session, case.id, department_id=999999, actor=OPERATOR,
                               now=now, calendar=CALENDAR)


def test_routing_into_2027_stores_a_provisional_due_date(session: Session) -> None:
    now = local("2026-12-30 10:00")
    case = new_case(session, now)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区税务局"),
                           actor=OPERATOR, now=now, calendar=CALENDAR)
    assert (case.due_date, case.due_provisional) == (date(2027, 1, 4), True)
    assert lead(case).due_provisional is True


def test_department_cannot_route_cases(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    with pytest.raises(NotAllowed):
        do_route_to_department(session, case.id,
                               department_id=department_id(session, "区经信局"),
                               actor=liaison(session, "区经信局"), now=now)


def test_reroute_after_return_gives_the_new_department_two_working_days(
    session: Session,
) -> None:
    case = routed_case(session, local("2026-11-24 09:00"), "区税务局")
    do_return_assignment(session, lead(case).id, reason="非我局职能",
                         actor=liaison(session, "区税务局"),
                         now=local("2026-11-25 09:00"), calendar=CALENDAR)
    do_reroute(session, case.id,
               department_id=department_id(session, "区自然资源规划分局"),
               actor=OPERATOR, now=local("2026-11-25 10:00"), reason="退单后重新交办",
               calendar=CALENDAR)
    assert (case.status, case.due_date, case.returned_at) == ("handling", date(2026, 11, 27),
                                                              None)
    assert lead(case).department.name == "区自然资源规划分局"


def test_reroute_of_a_handled_case_withdraws_the_old_assignment(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"), "区税务局")
    do_reroute(session, case.id, department_id=department_id(session, "区经信局"),
               actor=OPERATOR, now=local("2026-11-24 10:00"), calendar=CALENDAR)
    assert [a.state for a in case.assignments] == ["withdrawn", "pending"]
