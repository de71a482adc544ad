"""The notice's four handling modes, each end to end, with deadlines and audit events."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.assignments import do_accept_assignment, do_reply
from cases.actions.escalation import do_escalate, do_record_leading_group_decision
from cases.actions.joint import do_record_meeting_held, do_start_joint_handling
from cases.actions.triage import do_answer_instantly, do_route_to_department
from cases.errors import InvalidInput, NotAllowed
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    actions,
    department_id,
    lead,
    liaison,
    local,
    new_case,
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


def test_escalation_waits_for_the_leading_group_decision_within_its_days(session: Session
                                                                         ) -> None:
    now = local("2026-11-24 09:00")  # Tuesday
    case = new_case(session, now)
    do_escalate(session, case.id, analysis="涉及多个镇街土地指标，需领导小组研究",
                actor=SUPERVISOR, now=now, decision_days=3, calendar=CALENDAR)
    assert (case.mode, case.status, case.due_date, case.due_reason) == (
        "escalated", "escalated", date(2026, 11, 27), "研判上报：领导小组3个工作日内作出决定")
    assert case.escalations[0].decision_due == date(2026, 11, 27)


def test_leading_group_decision_sets_departments_and_deadline(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    do_escalate(session, case.id, analysis="重大复杂", actor=SUPERVISOR, now=now)
    ids = [department_id(session, n) for n in ("区自然资源规划分局", "区发改局")]
    do_record_leading_group_decision(
        session, case.id, decision="专题研究：调剂用地指标", deadline=date(2026, 12, 31),
        department_ids=ids, actor=SUPERVISOR, now=local("2026-11-26 09:00"))
    assert (case.status, case.due_date, case.due_provisional) == (
        "handling", date(2026, 12, 31), False)
    assert case.escalations[0].decision == "专题研究：调剂用地指标"
    assert actions(session, case) == ["filed", "escalated", "decision_recorded"]


def test_operators_cannot_escalate(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    with pytest.raises(NotAllowed):
        do_escalate(session, case.id, analysis="复杂", actor=OPERATOR, now=now)


def test_escalating_a_routed_case_withdraws_its_assignment(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区经信局"),
                           actor=OPERATOR, now=now, calendar=CALENDAR)
    do_escalate(session, case.id, analysis="需领导小组协调", actor=SUPERVISOR, now=now)
    assert case.assignments[0].state == "withdrawn"


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
