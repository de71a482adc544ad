"""What the 统计 page and the bulletin show for one period, gathered in one place."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Department
from cases.vocab import CATEGORY_LABELS
from core.dialect import is_postgresql
from core.ratio import Ratio
from reports import charts, periods
from reports.indicators import (
    NOW_COUNTS,
    Dimension,
    Figures,
    Level,
    Scope,
    figures,
    monthly,
    sum_figures,
    totals,
)
from workdays.calendar import WorkCalendar

TREND_MONTHS = 12


@dataclass(frozen=True)
class UnitRow:
    department_id: int
    name: str
    figures: Figures


@dataclass(frozen=True)
class Overview:
    scope: Scope
    totals: Figures
    previous: Figures
    units: list[UnitRow]
    areas: dict[Any, Figures]

    def change(self, name: str) -> int:
        """Month-on-month (period-on-period) change of a count."""
        return self.totals[name] - self.previous[name]

    def rate_change(self, name: str) -> float | None:
        """Change of a rate in percentage points, None when either side has no value."""
        now, before = self.totals.rate(name).value, self.previous.rate(name).value
        if now is None or before is None:
            return None
        return round((now - before) * 100, 1)


def department_names(session: Session) -> dict[int, str]:
    return {i: name for i, name in session.execute(
        select(Department.id, Department.name).order_by(Department.sort_order, Department.id))}


def unit_rows(session: Session, scope: Scope, calendar: WorkCalendar) -> list[UnitRow]:
    """One row per unit with anything in the period, in the notice's order of units."""
    found = figures(session, scope, calendar, Level.UNITS, Dimension.UNIT)
    names = department_names(session)
    return [UnitRow(dept_id, name, found[dept_id]) for dept_id, name in names.items()
            if dept_id in found and any(found[dept_id].counts.values())]


# What the period-on-period change is shown for: everything but today's state ("now"),
# which is the same in both periods, and the average days, which has no change column.
PREVIOUS_FAMILIES = ("received", "answered", "due", "ratings")


def with_todays_state(before: Figures, current: Figures) -> Figures:
    """The previous period's figures with the "now" counts, which are today's in both."""
    return replace(before, counts={**before.counts,
                                   **{name: current[name] for name in NOW_COUNTS}})


def previous_totals(session: Session, scope: Scope, calendar: WorkCalendar,
                    current: Figures) -> Figures:
    """The previous period's figures for the change columns."""
    return with_todays_state(_previous(session, scope, calendar), current)


def unit_view(scope: Scope, own: Figures, before: Figures) -> Overview:
    """A department's page: its own unit's figures, nothing of the others'."""
    return Overview(scope=scope, totals=own, previous=with_todays_state(before, own),
                    units=[], areas={})


def build(session: Session, scope: Scope, calendar: WorkCalendar) -> Overview:
    if scope.department_id is not None:
        own = totals(session, scope, calendar)
        before = totals(session, replace(scope, period=scope.period.previous()), calendar,
                        families=PREVIOUS_FAMILIES, with_days=False)
        return unit_view(scope, own, before)
    # On PostgreSQL the units' figures and the previous period's are computed on connections
    # of their own while this one computes the areas: three backends work at once, and the
    # page waits for the slowest part instead of the sum (a custom period is computed on the
    # request; docs/reports.md, Speed).
    bind = session.get_bind()
    with ThreadPoolExecutor(2, thread_name_prefix="overview") if _parallel(session) \
            else nullcontext() as pool:
        if pool is not None:
            units_later = pool.submit(apart, bind, unit_rows, scope, calendar)
            before_later = pool.submit(apart, bind, _previous, scope, calendar)
        # Every case has exactly one area, so the centre's figures are the areas' sum: one
        # pass over the period's rows instead of two.
        areas = figures(session, scope, calendar, Level.CASES, Dimension.AREA)
        centre = sum_figures(areas.values())
        if pool is not None:
            units, before = units_later.result(), before_later.result()
        else:
            units, before = unit_rows(session, scope, calendar), _previous(
                session, scope, calendar)
    return Overview(scope=scope, totals=centre, previous=with_todays_state(before, centre),
                    units=units, areas=areas)


def _previous(session: Session, scope: Scope, calendar: WorkCalendar) -> Figures:
    return totals(session, replace(scope, period=scope.period.previous()), calendar,
                  families=PREVIOUS_FAMILIES, with_days=False)


def _parallel(session: Session) -> bool:
    return is_postgresql(session)


T = TypeVar("T")


def apart(bind: Any, work: Callable[..., T], *args: Any) -> T:
    """``work(session, *args)`` on a session of its own (closed before returning)."""
    with Session(bind=bind) as own:
        return work(own, *args)


# -- charts ---------------------------------------------------------------------------------


def _trend_scope(scope: Scope) -> tuple[Scope, list[str]]:
    end = periods.month(scope.period.end.year, scope.period.end.month)
    months = periods.last_months(end, TREND_MONTHS)
    span = periods.custom(months[0].start, months[-1].end)
    return replace(scope, period=span), [f"{m.start:%Y-%m}" for m in months]


def _level(scope: Scope) -> Level:
    return Level.UNITS if scope.department_id is not None else Level.CASES


def volume_chart(session: Session, scope: Scope) -> bytes:
    span, months = _trend_scope(scope)
    counts = monthly(session, span, _level(scope), by_area=True, families=("received",))
    areas: dict[Any, str] = {**CATEGORY_LABELS, None: "未分类"}
    return charts.volume_by_area(months, {k: v["received"] for k, v in counts.items()}, areas)


def trend_chart(session: Session, scope: Scope) -> bytes:
    span, months = _trend_scope(scope)
    counts = monthly(session, span, _level(scope), families=("due", "ratings"))
    empty: dict[str, int] = {}
    on_time = [Ratio(counts.get(m, empty).get("on_time", 0),
                     counts.get(m, empty).get("due", 0)).value for m in months]
    satisfaction = [Ratio(counts.get(m, empty).get("satisfied", 0),
                          counts.get(m, empty).get("rated", 0)).value for m in months]
    return charts.rate_trend(months, on_time, satisfaction)


def units_chart(session: Session, scope: Scope, calendar: WorkCalendar,
                rows: list[UnitRow] | None = None) -> bytes:
    """Per-unit bars; ``rows`` when the caller has computed them already."""
    if rows is None:
        rows = unit_rows(session, scope, calendar)
    if scope.department_id is not None:
        rows = [r for r in rows if r.department_id == scope.department_id]
    rows = sorted(rows, key=lambda r: -r.figures["received"])[:20]
    return charts.unit_bars([r.name for r in rows], [r.figures["received"] for r in rows],
                            [r.figures["late"] for r in rows])
