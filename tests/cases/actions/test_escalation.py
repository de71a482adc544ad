"""研判上报 (``cases.actions.escalation``): the leading group's decision date, its decision,
who may escalate."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.escalation import do_escalate, do_record_leading_group_decision
from cases.actions.triage import do_route_to_department
from cases.errors import NotAllowed
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    actions,
    department_id,
    local,
    new_case,
)


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
