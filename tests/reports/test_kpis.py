"""Indicators on the constructed month (tests/reports/month.py): every figure is known."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ratio import Ratio
from reports import periods
from reports.indicators import Dimension, Level, Scope, cases_of, figures, monthly, totals
from tests.cases.factories import CALENDAR
from tests.reports.month import TODAY, build_month

TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11)
DECEMBER = periods.month(2026, 12)


def scope(period: periods.Period = NOVEMBER, department_id: int | None = None) -> Scope:
    return Scope(period=period, today=TODAY, tz=TZ, department_id=department_id)


def numbers(session: Session, name: str, sc: Scope, level: Level = Level.CASES,
            department_id: int | None = None) -> set[str]:
    from cases.case_models import Case

    ids = cases_of(name, sc, level, department_id)
    return set(session.scalars(select(Case.number).where(Case.id.in_(ids))))


def test_centre_figures_of_the_constructed_month(session: Session) -> None:
    month = build_month(session)
    got = totals(session, scope(), CALENDAR)
    expected = {"received": 7, "instant": 1, "routed": 5, "joint": 1, "escalated": 0,
                "answered": 5, "followed_up": 2, "due": 7, "on_time": 5, "late": 2,
                "overdue_now": 1, "hanging_now": 2, "returned": 1, "extension_approved": 1,
                "extension_rejected": 0, "rated": 3, "satisfied": 2, "reworked": 1,
                "score_5": 1, "score_4": 1, "score_3": 0, "score_2": 1, "score_1": 0}
    assert {k: got[k] for k in expected} == expected
    assert got.on_time_rate == Ratio(5, 7)
    assert got.satisfaction_rate == Ratio(2, 3)
    assert got.followup_rate == Ratio(2, 5)
    assert got.instant_rate == Ratio(1, 7)
    # The late-then-extended case counts late in November, where it first missed 11-18.
    c, e = month.cases["C"].number, month.cases["E"].number
    assert numbers(session, "late", scope()) == {c, e}
    assert month.cases["C"].due_date == date(2026, 12, 10)


def test_late_then_extended_is_not_on_time_next_month_and_not_yet_due_is_not_counted(
        session: Session) -> None:
    build_month(session)
    december = totals(session, scope(DECEMBER), CALENDAR)
    # C (due 12-10 now) was already counted late in November; D (due 12-09) is not yet due.
    assert (december["due"], december["on_time"], december["late"]) == (0, 0, 0)
    assert december.on_time_rate.value is None
    assert december["received"] == 1


def test_per_unit_split_counts_co_handling_units_for_their_own_part(session: Session) -> None:
    month = build_month(session)
    units = figures(session, scope(), CALENDAR, Level.UNITS, Dimension.UNIT)
    first, second = units[month.unit_1], units[month.unit_2]
    assert (first["received"], first["reworked"], first["answered"]) == (6, 1, 5)
    assert (first["due"], first["on_time"], first["late"]) == (7, 5, 2)
    assert (first["rated"], first["satisfied"], first["followed_up"]) == (3, 2, 3)
    assert (first["overdue_now"], first["hanging_now"]) == (1, 2)
    assert (second["received"], second["answered"], second["returned"]) == (2, 1, 1)
    assert (second["due"], second["on_time"], second["rated"]) == (1, 1, 0)
    assert numbers(session, "on_time", scope(), Level.UNITS, month.unit_2) == {
        month.cases["F"].number}
    # A department's own headline figures are its unit row.
    own = totals(session, scope(department_id=month.unit_2), CALENDAR)
    assert own.counts == second.counts


def test_breakdowns_by_area_and_channel_add_up(session: Session) -> None:
    build_month(session)
    by_area = figures(session, scope(), CALENDAR, Level.CASES, Dimension.AREA)
    assert {k: v["received"] for k, v in by_area.items() if v["received"]} == {
        "policy": 2, "factor": 3, "special": 2}
    by_channel = figures(session, scope(), CALENDAR, Level.CASES, Dimension.CHANNEL)
    assert by_channel["wechat"]["received"] == 1
    assert by_channel["window"]["received"] == 6
    by_sub = figures(session, scope(), CALENDAR, Level.CASES, Dimension.SUBAREA)
    assert by_sub["factor/land"]["received"] == 2


def test_average_working_days_to_answer(session: Session) -> None:
    build_month(session)
    # To the first answer: A 0 (same day), B 1 (11-16→11-17), F 4 (11-16→11-20),
    # G 1 (11-09→11-10, its first answer; the rework's 11-13 does not count), H 2 (11-02→11-04)
    assert totals(session, scope(), CALENDAR).average_days == round(8 / 5, 2)


def test_monthly_trend_matches_the_month_figures(session: Session) -> None:
    build_month(session)
    span = periods.custom(date(2026, 11, 1), date(2026, 12, 31))
    trend = monthly(session, scope(span))
    assert (trend["2026-11"]["received"], trend["2026-11"]["due"],
            trend["2026-11"]["on_time"]) == (7, 7, 5)
    assert trend["2026-12"]["received"] == 1
    by_area = monthly(session, scope(span), by_area=True)
    assert by_area[("2026-11", "factor")]["received"] == 3


def test_empty_period_has_no_value() -> None:
    assert Ratio(0, 0).value is None
    assert Ratio(0, 0).percent() == "—"
    assert Ratio(1, 4).percent() == "25.0%"
    assert Ratio(1, 4).as_json() == {"numerator": 1, "denominator": 4, "value": 0.25}
