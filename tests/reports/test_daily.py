"""Figures by day (reports/daily.py): any period's page summed from the days counted ahead
equals the page computed for that period, on generated histories (tests/cases/test_timeliness)
and on the constructed month."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from reports import daily, freshness, overview, periods, snapshots
from reports.indicators import Scope
from reports.settings import ReportSettings
from tests.cases.factories import CALENDAR, department_id
from tests.cases.test_timeliness import TODAY, TZ, UNITS, play

AT = datetime(2026, 12, 10, 9, 0, tzinfo=TZ).astimezone(UTC)
PERIODS = (
    periods.custom(date(2026, 10, 8), date(2026, 11, 7)),  # across two months
    periods.custom(date(2026, 11, 15), date(2026, 12, 20)),  # into the future
    periods.month(2026, 11),
    periods.custom(date(2026, 10, 31), date(2026, 10, 31)),  # one day
    periods.quarter(2026, 4),
    periods.custom(date(2026, 7, 1), date(2026, 12, 31)),  # six months
)


def _stored(session: Session, scope: Scope) -> None:
    snapshots._store_rows(session, daily.rows(session, scope, CALENDAR, AT))
    session.commit()


def _same(summed: overview.Overview, computed: overview.Overview) -> None:
    assert summed.totals == computed.totals
    assert summed.previous == computed.previous
    assert summed.units == computed.units
    assert summed.areas == computed.areas


# Two seeds of 20 histories: every period below still has cases in it (asserted); the
# histories cost about 0.1 s each, the check of each period the same for any number.
@pytest.mark.parametrize("seed", [1, 2])
def test_any_period_summed_from_its_days_equals_the_period_computed(
        session: Session, seed: int) -> None:
    play(session, seed, cases=20)
    base = Scope(period=periods.month(2026, 12), today=TODAY, tz=TZ)
    _stored(session, base)
    units = [department_id(session, name) for name in UNITS]
    seen_counts: dict[str, int] = {}
    for period in PERIODS:
        for unit in (None, *units):
            scope = replace(base, period=period, department_id=unit)
            days = daily.load(session, scope, AT + timedelta(minutes=1))
            assert days is not None and days.computed_at == AT
            computed = overview.build(session, scope, CALENDAR)
            _same(daily.view(days, session, scope), computed)
            seen_counts[period.label] = (seen_counts.get(period.label, 0)
                                         + sum(computed.totals.counts.values()))
    assert all(seen_counts.values()), seen_counts


def test_the_page_uses_the_days_only_from_one_fresh_pass_of_the_same_day_and_settings(
        session: Session) -> None:
    play(session, 3, cases=10)
    base = Scope(period=periods.month(2026, 12), today=TODAY, tz=TZ)
    scope = replace(base, period=PERIODS[0])
    assert daily.load(session, scope, AT) is None  # nothing counted yet
    _stored(session, base)
    assert daily.load(session, scope, AT + freshness.MAX_AGE) is not None
    assert daily.load(session, scope, AT + freshness.MAX_AGE + timedelta(seconds=1)) is None
    assert daily.load(session, replace(scope, today=TODAY + timedelta(days=1)), AT) is None
    other = replace(scope, settings=ReportSettings(satisfied_min_score=4))
    assert daily.load(session, other, AT) is None
    # Outside the span (from December 2025 to the end of 2026, with the previous period):
    # computed instead.
    assert daily.load(session, replace(scope, period=periods.month(2025, 12)), AT) is None
    assert daily.load(session, replace(scope, period=periods.month(2026, 1)), AT) is not None
    assert daily.load(session, replace(scope, period=periods.month(2027, 1)), AT) is None
