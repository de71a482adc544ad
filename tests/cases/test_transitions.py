"""Forbidden transitions raise clear domain errors and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply
from cases.actions.escalation import do_record_leading_group_decision
from cases.actions.joint import do_record_meeting_held
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly, do_route_to_department
from cases.actors import SYSTEM
from cases.case_models import AuditLogError, CaseEvent
from cases.errors import ForbiddenTransition, NotFound, http_status
from cases.states import TRANSITIONS
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    actions,
    answered_case,
    department_id,
    lead,
    local,
    new_case,
    routed_case,
)

NOW = local("2026-11-24 09:00")


def test_rating_a_case_that_is_not_answered_is_forbidden(session: Session) -> None:
    case = routed_case(session, NOW)
    with pytest.raises(ForbiddenTransition, match="办理中") as info:
        do_record_rating(session, case.id, score=5, via="callback", actor=SYSTEM, now=NOW)
    assert (info.value.code, http_status(info.value)) == ("forbidden_transition", 409)


def test_routing_a_case_twice_is_forbidden(session: Session) -> None:
    case = routed_case(session, NOW)
    with pytest.raises(ForbiddenTransition):
        do_route_to_department(session, case.id,
                               department_id=department_id(session, "区税务局"),
                               actor=OPERATOR, now=NOW, calendar=CALENDAR)


def test_instant_answer_of_a_routed_case_is_forbidden(session: Session) -> None:
    case = routed_case(session, NOW)
    with pytest.raises(ForbiddenTransition):
        do_answer_instantly(session, case.id, text="答复", actor=OPERATOR, now=NOW)


def test_replying_twice_is_forbidden(session: Session) -> None:
    case = answered_case(session, NOW)
    with pytest.raises(ForbiddenTransition):
        do_reply(session, lead(case).id, text="再答复", actor=OPERATOR, now=NOW)


def test_closed_case_cannot_be_rated_again(session: Session) -> None:
    case = answered_case(session, NOW)
    do_record_rating(session, case.id, score=5, via="callback", actor=SYSTEM, now=NOW)
    with pytest.raises(ForbiddenTransition, match="已办结"):
        do_record_rating(session, case.id, score=1, via="callback", actor=SYSTEM,
                         now=NOW)


def test_decision_without_escalation_is_forbidden(session: Session) -> None:
    case = new_case(session, NOW)
    with pytest.raises(ForbiddenTransition):
        do_record_leading_group_decision(
            session, case.id, decision="方案", deadline=date(2026, 12, 31),
            department_ids=[department_id(session, "区发改局")], actor=SUPERVISOR, now=NOW)


def test_meeting_for_a_routed_case_is_forbidden(session: Session) -> None:
    case = routed_case(session, NOW)
    with pytest.raises(ForbiddenTransition, match="专班商办"):
        do_record_meeting_held(session, case.id, held_at=NOW, attendees=["区经信局"],
                               minutes="", actor=SUPERVISOR, now=NOW)


def test_forbidden_transition_writes_no_event(session: Session) -> None:
    case = routed_case(session, NOW)
    before = actions(session, case)
    with pytest.raises(ForbiddenTransition):
        do_answer_instantly(session, case.id, text="答复", actor=OPERATOR, now=NOW)
    assert actions(session, case) == before


def test_unknown_case_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound) as info:
        do_answer_instantly(session, 424242, text="答复", actor=OPERATOR, now=NOW)
    assert http_status(info.value) == 404


def test_every_transition_targets_known_statuses() -> None:
    from cases.vocab import Status

    for transition in TRANSITIONS.values():
        assert transition.sources <= set(Status)
        assert transition.targets <= set(Status)


def test_audit_events_cannot_be_changed_through_the_orm(session: Session) -> None:
    case = new_case(session, NOW)
    session.commit()
    event = case.events[0]
    event.note = "篡改"
    with pytest.raises(AuditLogError):
        session.flush()
    session.rollback()


def test_audit_events_cannot_be_deleted_through_the_orm(session: Session) -> None:
    case = new_case(session, NOW)
    session.commit()
    session.delete(case.events[0])
    with pytest.raises(AuditLogError):
        session.flush()
    session.rollback()


@pytest.mark.postgresql_only
def test_postgresql_refuses_raw_updates_of_audit_events(session: Session) -> None:
    new_case(session, NOW)
    session.commit()
    with pytest.raises(Exception, match="append-only"):
        session.execute(text(f"UPDATE {CaseEvent.__tablename__} SET note = 'x'"))
    session.rollback()
