"""Department side: accept, 退单 back to the queue, re-routing, 延期, and who may act."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply, do_return_assignment
from cases.actions.extensions import do_approve_extension, do_reject_extension, do_request_extension
from cases.actions.triage import do_reroute, do_route_to_department
from cases.errors import ForbiddenTransition, InvalidInput, NotAllowed, NotYourCase
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


def test_department_cannot_route_cases(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    with pytest.raises(NotAllowed):
        do_route_to_department(session, case.id,
                               department_id=department_id(session, "区经信局"),
                               actor=liaison(session, "区经信局"), now=now)


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


def test_returned_assignment_cannot_reply(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    assignment = lead(case)
    do_return_assignment(session, assignment.id, reason="非我局职能",
                         actor=liaison(session, "区经信局"),
                         now=local("2026-11-24 10:00"), calendar=CALENDAR)
    with pytest.raises(ForbiddenTransition):
        do_reply(session, assignment.id, text="答复", actor=liaison(session, "区经信局"),
                 now=local("2026-11-24 11:00"))


def test_extension_request_and_approval_set_the_agreed_due_date(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    department = liaison(session, "区经信局")
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需供电公司现场勘察", agreed_with_enterprise=True,
                         actor=department, now=local("2026-11-25 09:00"))
    assert lead(case).extension_status == "requested"
    do_approve_extension(session, lead(case).id, enterprise_informed=True,
                         actor=OPERATOR, now=local("2026-11-25 10:00"))
    assert (lead(case).due_date, lead(case).enterprise_informed) == (date(2026, 12, 10), True)
    assert case.due_date == date(2026, 12, 10)
    assert "约定办结时限" in case.due_reason
    assert actions(session, case)[-3:] == ["extension_requested", "extension_approved",
                                           "due_changed"]


def test_extension_must_be_agreed_with_the_enterprise(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    with pytest.raises(InvalidInput) as info:
        do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                             reason="需勘察", agreed_with_enterprise=False,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-25 09:00"))
    assert "agreed_with_enterprise" in info.value.fields


def test_extension_cannot_be_requested_after_the_deadline(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))  # due 11-26
    with pytest.raises(ForbiddenTransition, match="超过办理期限"):
        do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                             reason="需勘察", agreed_with_enterprise=True,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-27 09:00"))


def test_extension_must_move_the_deadline_later(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    with pytest.raises(InvalidInput) as info:
        do_request_extension(session, lead(case).id, new_due=date(2026, 11, 25),
                             reason="需勘察", agreed_with_enterprise=True,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-24 10:00"))
    assert "new_due" in info.value.fields


def test_rejected_extension_keeps_the_original_deadline(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需勘察", agreed_with_enterprise=True,
                         actor=liaison(session, "区经信局"),
                         now=local("2026-11-24 10:00"))
    do_reject_extension(session, lead(case).id, reason="可先书面答复", actor=OPERATOR,
                        now=local("2026-11-24 11:00"))
    assert (lead(case).extension_status, case.due_date) == ("rejected", date(2026, 11, 26))


def test_departments_cannot_approve_their_own_extension(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    department = liaison(session, "区经信局")
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需勘察", agreed_with_enterprise=True, actor=department,
                         now=local("2026-11-24 10:00"))
    with pytest.raises(NotAllowed):
        do_approve_extension(session, lead(case).id, enterprise_informed=True,
                             actor=department, now=local("2026-11-24 11:00"))
