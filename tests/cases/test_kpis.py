"""KPIs of docs/decisions.md §2 on small datasets built through the lifecycle."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from cases import lifecycle
from cases.actors import SYSTEM
from cases.kpis import Ratio, follow_up_rate, instant_rate, on_time_rate, satisfaction_rate
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    answered_case,
    lead,
    liaison,
    local,
    new_case,
    routed_case,
)

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def rate(session: Session, case_id: int, score: int, when: str) -> None:
    lifecycle.record_rating(session, case_id, score=score, via="callback", actor=SYSTEM,
                            now=local(when), calendar=CALENDAR)


def test_on_time_rate_counts_cases_due_in_the_period(session: Session) -> None:
    answered_case(session, local("2026-11-24 09:00"))  # due 11-26, answered 11-24
    late = routed_case(session, local("2026-11-24 09:00"))
    lifecycle.reply(session, lead(late).id, text="迟复", actor=liaison(session, "区经信局"),
                    now=local("2026-11-27 09:00"), calendar=CALENDAR)
    routed_case(session, local("2026-11-25 09:00"))  # due 11-27, not answered
    routed_case(session, local("2026-11-30 09:00"))  # due 12-02: not in November
    assert on_time_rate(session, *NOVEMBER) == Ratio(1, 3)


def test_satisfaction_rate_is_ratings_three_to_five_over_all(session: Session) -> None:
    for score in (5, 3, 2):
        rate(session, answered_case(session, local("2026-11-24 09:00")).id, score,
             "2026-11-25 10:00")
    assert satisfaction_rate(session, *NOVEMBER) == Ratio(2, 3)


def test_satisfaction_rate_uses_local_days(session: Session) -> None:
    case = answered_case(session, local("2026-11-24 09:00"))
    rate(session, case.id, 5, "2026-12-01 07:00")  # 11-30 23:00 UTC, but December locally
    assert satisfaction_rate(session, *NOVEMBER) == Ratio(0, 0)


def test_follow_up_rate_is_rated_answers_over_answers(session: Session) -> None:
    rated = answered_case(session, local("2026-11-24 09:00"))
    answered_case(session, local("2026-11-24 09:00"))
    rate(session, rated.id, 4, "2026-11-25 10:00")
    assert follow_up_rate(session, *NOVEMBER) == Ratio(1, 2)


def test_instant_rate_is_instant_answers_over_cases_received(session: Session) -> None:
    now = local("2026-11-24 09:00")
    quick = new_case(session, now)
    lifecycle.answer_instantly(session, quick.id, text="已答复", actor=OPERATOR, now=now,
                               calendar=CALENDAR)
    routed_case(session, now)
    new_case(session, now)
    new_case(session, local("2026-12-01 09:00"))  # another month
    assert instant_rate(session, *NOVEMBER) == Ratio(1, 3)


def test_empty_period_has_no_value() -> None:
    assert Ratio(0, 0).value is None
    assert Ratio(0, 0).percent() == "—"
    assert Ratio(1, 4).percent() == "25.0%"
