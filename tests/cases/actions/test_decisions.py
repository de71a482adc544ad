"""The split of every step after intake (``cases.actions``): a decision ``check_*`` raises the
step's errors and changes nothing; its action ``do_*`` decides first, then changes, audits and
tells. The steps' own rules are tested beside this file, one test module per module of
``cases/actions/`` (``test_triage.py``, ``test_joint.py``, ``test_escalation.py``,
``test_assignments.py``, ``test_extensions.py``); ratings in ``tests/cases/test_ledger.py``,
corrections in ``tests/cases/test_fields.py``, forbidden steps in
``tests/cases/test_transitions.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.actions.assignments import (
    check_accept_assignment,
    check_reply,
    check_report_progress,
    check_return_assignment,
)
from cases.actions.details import check_update_details
from cases.actions.escalation import check_escalate, do_escalate
from cases.actions.extensions import check_request_extension
from cases.actions.joint import check_start_joint_handling
from cases.actions.rating import check_close_unrated, check_record_rating
from cases.actions.triage import check_answer_instantly, check_route_to_department
from cases.actors import SYSTEM
from cases.case_models import Case, CaseEvent
from cases.errors import ForbiddenTransition, InvalidInput, NotYourCase
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    answered_case,
    department_id,
    lead,
    liaison,
    local,
    new_case,
    routed_case,
)

NOW = local("2026-11-24 09:00")
UNIT = "区经信局"


def unchanged(session: Session, decide: Callable[[], Any]) -> Any:
    """Run a decision and show it left the session as it found it: nothing added, nothing
    changed, no audit event."""
    session.flush()
    events = session.scalar(select(func.count()).select_from(CaseEvent))
    decided = decide()
    assert not session.new and not session.dirty and not session.deleted
    session.flush()
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == events
    return decided


def test_the_centres_decisions_change_nothing(session: Session) -> None:
    case = new_case(session, NOW)
    unit = department_id(session, UNIT)
    assert unchanged(session, lambda: check_route_to_department(
        session, case.id, department_id=unit, actor=OPERATOR))[1].name == UNIT
    assert unchanged(session, lambda: check_answer_instantly(
        session, case.id, text="  可在政务网办理 ", actor=OPERATOR)) == (case, "可在政务网办理")
    other = department_id(session, "区自然资源规划分局")
    _, units, _ = unchanged(session, lambda: check_start_joint_handling(
        session, case.id, department_ids=[unit, other], lead_department_id=other,
        meeting_at=NOW, actor=SUPERVISOR, now=NOW, calendar=CALENDAR))
    assert [d.id for d in units] == [other, unit]
    assert unchanged(session, lambda: check_update_details(
        session, case.id, actor=OPERATOR, contact_phone="138 0013 8000"))[1] == {
        "contact_phone": "+8613800138000"}
    assert (case.status, case.contact_phone, case.needs_review) == ("received", None, False)


def test_a_departments_decisions_change_nothing(session: Session) -> None:
    case = routed_case(session, NOW)
    assignment = lead(case)
    actor = liaison(session, UNIT)
    unchanged(session, lambda: check_accept_assignment(session, assignment.id, actor=actor))
    unchanged(session, lambda: check_return_assignment(session, assignment.id,
                                                       reason="非本单位职责", actor=actor))
    assert unchanged(session, lambda: check_reply(
        session, assignment.id, text="不符合条件", kind="explanation", policy_basis="某政策",
        actor=actor))[1:] == ("不符合条件", "某政策")
    unchanged(session, lambda: check_report_progress(session, assignment.id, text="正在协调",
                                                     actor=actor))
    unchanged(session, lambda: check_request_extension(
        session, assignment.id, new_due=date(2026, 12, 10), reason="需现场勘查",
        agreed_with_enterprise=True, actor=actor, now=NOW))
    unchanged(session, lambda: check_escalate(session, case.id, analysis="需领导小组协调",
                                              actor=SUPERVISOR))
    assert (assignment.state, assignment.extension_status, case.status) == (
        "pending", None, "handling")


def test_the_ratings_decisions_change_nothing(session: Session) -> None:
    case = answered_case(session, NOW)
    unchanged(session, lambda: check_record_rating(session, case.id, score=1,
                                                   via="callback", actor=SYSTEM))
    unchanged(session, lambda: check_close_unrated(session, case.id, reason="三次未接通",
                                                   actor=SYSTEM))
    assert (case.status, case.ledger_state, case.rework_count) == ("answered", "open", 0)


@pytest.mark.parametrize(("decide", "error"), [
    (lambda s, c, a: check_route_to_department(s, c.id, department_id=a.department_id,
                                               actor=SUPERVISOR), ForbiddenTransition),
    (lambda s, c, a: check_reply(s, a.id, text="越权答复", actor=liaison(s, "区税务局")),
     NotYourCase),
    (lambda s, c, a: check_reply(s, a.id, text="答复", kind="progress",
                                 actor=liaison(s, UNIT)), InvalidInput),
    (lambda s, c, a: check_request_extension(s, a.id, new_due=date(2026, 11, 25), reason="",
                                             agreed_with_enterprise=False,
                                             actor=liaison(s, UNIT), now=NOW), InvalidInput),
    (lambda s, c, a: check_record_rating(s, c.id, score=5, via="callback", actor=SYSTEM),
     ForbiddenTransition),
])
def test_a_refused_decision_raises_the_steps_error(
        session: Session, decide: Callable[[Session, Case, Any], Any], error: type) -> None:
    case = routed_case(session, NOW)
    with pytest.raises(error):
        unchanged(session, lambda: decide(session, case, lead(case)))


def test_a_refused_escalation_leaves_the_units_on_the_case(session: Session) -> None:
    """The decision comes first: a refused decision time withdraws no unit (before the split
    the units were withdrawn before the time was checked)."""
    case = routed_case(session, NOW)
    session.flush()
    with pytest.raises(InvalidInput) as info:
        do_escalate(session, case.id, analysis="需领导小组协调", decision_days=0,
                    actor=SUPERVISOR, now=NOW, calendar=CALENDAR)
    assert info.value.fields == {"decision_days": "决定时限至少为1个工作日"}
    assert (lead(case).state, case.status) == ("pending", "handling")
    assert not session.dirty
