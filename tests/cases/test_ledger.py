"""The ledger: settled (销账) when answered on time and rated 3–5, hanging (挂账) otherwise."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply
from cases.actions.escalation import do_escalate
from cases.actions.extensions import do_request_extension
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly
from cases.actors import SYSTEM
from cases.case_models import CaseEvent
from cases.errors import InvalidInput
from cases.ledger import sweep_overdue
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    actions,
    answered_case,
    lead,
    liaison,
    local,
    new_case,
    routed_case,
)


def rate(session: Session, case_id: int, score: int, when: str = "2026-11-27 10:00") -> None:
    do_record_rating(session, case_id, score=score, via="callback", actor=SYSTEM,
                     now=local(when), calendar=CALENDAR)


def test_on_time_answer_rated_satisfied_is_settled(session: Session) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    rate(session, case.id, 4)
    assert (case.status, case.ledger_state) == ("closed", "settled")
    assert case.ratings[0].score == 4


def test_answered_case_stays_open_until_rated(session: Session) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    assert (case.status, case.ledger_state) == ("answered", "open")


def test_sweep_hangs_an_overdue_case(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))  # due 11-26
    session.commit()
    assert sweep_overdue(session, local("2026-11-27 00:05")) == 1
    session.refresh(case)
    assert (case.ledger_state, lead(case).overdue) == ("hanging", True)
    assert actions(session, case)[-1] == "ledger_hanging"


def test_sweep_leaves_a_case_alone_on_its_due_day(session: Session) -> None:
    routed_case(session, local("2026-11-24 09:00"))
    assert sweep_overdue(session, local("2026-11-26 23:59")) == 0


def test_sweep_is_idempotent(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    sweep_overdue(session, local("2026-11-27 08:00"))
    assert sweep_overdue(session, local("2026-11-27 09:00")) == 0
    hung = select(func.count()).where(CaseEvent.case_id == case.id,
                                      CaseEvent.action == "ledger_hanging")
    assert session.scalar(hung) == 1


def test_sweep_ignores_answered_cases(session: Session) -> None:
    answered_case(session, local("2026-11-24 09:00"))
    assert sweep_overdue(session, local("2026-12-10 09:00")) == 0


def test_an_undecided_escalation_is_overdue_after_its_decision_date(session: Session) -> None:
    case = new_case(session, local("2026-11-24 09:00"))
    do_escalate(session, case.id, analysis="重大", actor=SUPERVISOR,
                now=local("2026-11-24 10:00"))
    decision_due = case.due_date
    assert decision_due == date(2026, 12, 1)  # 5 working days
    assert sweep_overdue(session, local("2026-12-01 23:00")) == 0  # the whole day is on time
    assert sweep_overdue(session, local("2026-12-02 09:00")) == 1
    session.refresh(case)
    assert (case.ledger_state, case.first_missed_due) == ("hanging", decision_due)


def test_untriaged_case_is_not_hung_by_the_centres_same_day_target(session: Session) -> None:
    new_case(session, local("2026-11-24 22:00"))  # a voicemail at night
    assert sweep_overdue(session, local("2026-11-25 09:00")) == 0


def test_a_pending_extension_request_does_not_stop_the_clock(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需勘察", agreed_with_enterprise=True,
                         actor=liaison(session, "区经信局"),
                         now=local("2026-11-26 09:00"))
    sweep_overdue(session, local("2026-11-27 09:00"))
    session.refresh(case)
    assert lead(case).overdue is True
    assert lead(case).first_missed_due == case.first_missed_due == date(2026, 11, 26)


def test_late_answer_hangs_the_case_at_once(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    do_reply(session, lead(case).id, text="迟到的答复", actor=liaison(session, "区经信局"),
             now=local("2026-11-30 09:00"), calendar=CALENDAR)
    assert (case.status, case.ledger_state) == ("answered", "hanging")


def test_hanging_case_is_settled_once_answered_and_rated_satisfied(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    sweep_overdue(session, local("2026-11-27 09:00"))
    session.refresh(case)
    do_reply(session, lead(case).id, text="答复", actor=liaison(session, "区经信局"),
             now=local("2026-11-30 09:00"), calendar=CALENDAR)
    rate(session, case.id, 3, "2026-12-01 10:00")
    assert (case.status, case.ledger_state) == ("closed", "settled")


def test_poor_rating_reworks_the_case_with_the_same_department(session: Session) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    rate(session, case.id, 2, "2026-11-27 10:00")  # Friday
    assert (case.status, case.ledger_state, case.rework_count) == ("handling", "hanging", 1)
    rework = lead(case)
    assert (rework.round, rework.state, rework.department.name) == (1, "pending", "区经信局")
    assert case.due_date == date(2026, 12, 1)
    assert actions(session, case)[-2:] == ["ledger_hanging", "rework"]


def test_reworked_case_stays_hanging_until_rated_satisfied(session: Session) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    rate(session, case.id, 1)
    do_reply(session, lead(case).id, text="重新答复", actor=liaison(session, "区经信局"),
             now=local("2026-11-30 09:00"), calendar=CALENDAR)
    assert (case.status, case.ledger_state) == ("answered", "hanging")
    rate(session, case.id, 5, "2026-12-01 09:00")
    assert (case.status, case.ledger_state) == ("closed", "settled")


def test_poorly_rated_instant_answer_returns_to_the_centre(session: Session) -> None:
    now = local("2026-11-24 09:00")
    case = new_case(session, now)
    do_answer_instantly(session, case.id, text="答复", actor=OPERATOR, now=now,
                        calendar=CALENDAR)
    rate(session, case.id, 2, "2026-11-24 15:00")
    assert (case.status, case.ledger_state, case.due_date) == (
        "received", "hanging", date(2026, 11, 24))


@pytest.mark.parametrize("score", [0, 6])
def test_score_must_be_one_to_five(session: Session, score: int) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    with pytest.raises(InvalidInput):
        rate(session, case.id, score)


def test_operator_rating_records_the_call(session: Session) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    do_record_rating(session, case.id, score=5, comment="办得快", via="operator",
                     actor=OPERATOR, now=local("2026-11-25 09:00"), calendar=CALENDAR)
    rating = case.ratings[0]
    assert (rating.via, rating.comment, rating.rated_by) == ("operator", "办得快", "小王")
