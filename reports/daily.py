"""Figures by day, computed ahead: the 统计 page of any period is their sum.

A custom period (any two dates) was computed on the request: a few dozen aggregate queries
over a million cases, most of a second. Every count of a family is a count of rows by one
date of the row (received, first answered, assessed due, rated, replied, returned, extension
decided — ``Family.period_date``), and the conditions of the counts read no period (only
today's date and the settings), so a period's count is the sum of its days' counts. The
periodic job (``reports.snapshots.refresh_standard``) counts every day of the twelve months
before this month to the end of the year (:func:`span`), per area and per unit, with
today's state ("now", the same for every period), and stores one row per month in
``report_snapshots``. The page sums the days of the period and
of the previous period: a few rows read, no aggregate over the cases.

The sums are exactly what :func:`reports.overview.build` computes for the period at the
time of the pass (``tests/reports/test_daily.py`` compares both on generated histories); a
period outside the span, a pass missing or older than ``freshness.MAX_AGE``, or another day
or other settings: the page computes the period on the request as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.case_models import Assignment
from reports import overview, periods
from reports.freshness import MAX_AGE, settings_digest
from reports.indicators import (
    COUNT_NAMES,
    FAMILIES,
    Dimension,
    Family,
    Figures,
    Level,
    Scope,
    _count_if,
    _dimension_column,
    answer_days_rows,
    local_day,
    sum_figures,
    tune,
)
from reports.models import ReportSnapshot
from workdays.calendar import WorkCalendar

FORMAT = 1
NOW = "now"
_DIMENSIONS = {Level.CASES: Dimension.AREA, Level.UNITS: Dimension.UNIT}
# Keys are area codes (or None) and department ids: JSON keeps them in lists.
Key = Any


def span(today: date) -> periods.Period:
    """The days counted ahead: the twelve months before this month, this month and the
    rest of the year (a due date can be ahead: a case answered before it is on time)."""
    start = date(today.year - 1, today.month, 1)
    return periods.custom(start, date(today.year, 12, 31))


def _months(start: date, end: date) -> list[str]:
    months, day = [], date(start.year, start.month, 1)
    while day <= end:
        months.append(f"{day:%Y-%m}")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def row_key(scope: Scope, part: str) -> str:
    """``part``: a month (``2026-10``) or ``now``; the day of "now" and the settings too."""
    return f"d{FORMAT}:{part}:{scope.today}:{settings_digest(scope)}"


# -- counting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """Counts of a family dated by one column (退单 and extension decisions: two parts)."""

    family: Family
    names: tuple[str, ...]
    column: Any
    timestamp: bool


def _parts(level: Level) -> list[_Part]:
    parts = []
    for family in FAMILIES[level]:
        if family.name == "assignment_events":
            parts += [_Part(family, ("returned",), Assignment.returned_at, True),
                      _Part(family, ("extension_approved", "extension_rejected"),
                            Assignment.extension_decided_at, True)]
        elif family.period_date is not None:
            parts.append(_Part(family, tuple(c.name for c in family.counts),
                               family.period_date, family.timestamp))
    return parts


def _part_name(part: _Part) -> str:
    return f"{part.family.name}:{part.names[0]}"


# {month: {day: {part name: [[key, rows, *counts], ...], "days": [[key, sum, n], ...]}}}
Months = dict[str, dict[str, dict[str, list[list[Any]]]]]


def count_days(session: Session, base: Scope, calendar: WorkCalendar
               ) -> tuple[Months, dict[str, list[list[Any]]]]:
    """Every day of :func:`span`: each part's counts per area (``cases``) and per unit
    (``units``), the working days to answer; and today's state per area and unit."""
    scope = replace(base, period=span(base.today), department_id=None)
    tune(session)
    months: Months = {}

    def bucket(day: Any) -> dict[str, list[list[Any]]]:
        text = day if isinstance(day, str) else day.isoformat()
        return months.setdefault(text[:7], {}).setdefault(text, {})

    now: dict[str, list[list[Any]]] = {}
    for level, dimension in _DIMENSIONS.items():
        # Rows as plain tuples: (day, key, rows, *counts).
        key = _dimension_column(level, dimension).label("key")
        with_case = level == Level.CASES
        for part in _parts(level):
            counts = {c.name: c for c in part.family.counts}
            day_column = (local_day(part.column, scope.tz, session) if part.timestamp
                          else part.column).label("day")
            stmt = part.family.rows(scope, part.family.needs_case or with_case)
            if part.family.name == "assignment_events":
                stmt = stmt.where(scope.during(part.column))
            stmt = stmt.with_only_columns(
                day_column, key, func.count().label("n"),
                *(_count_if(counts[name].condition(scope)).label(name) for name in part.names),
                maintain_column_froms=True).group_by(day_column, key)
            name = f"{level.value}/{_part_name(part)}"
            for day, *values in session.execute(stmt).tuples():
                bucket(day).setdefault(name, []).append(values)
        family = next(f for f in FAMILIES[level] if f.name == NOW)
        stmt = family.rows(scope, family.needs_case or with_case).with_only_columns(
            key, *(_count_if(c.condition(scope)).label(c.name) for c in family.counts),
            maintain_column_froms=True).group_by(key)
        now[level.value] = [[row.key, *(int(getattr(row, c.name)) for c in family.counts)]
                            for row in session.execute(stmt)]
        for row_key_, day, days, answers in answer_days_rows(session, scope, calendar, level,
                                                             dimension, by_day=True):
            bucket(day).setdefault(f"{level.value}/days", []).append([row_key_, days, answers])
    return months, now


def rows(session: Session, base: Scope, calendar: WorkCalendar, at: datetime
         ) -> list[tuple[str, datetime, bytes]]:
    """The rows to keep for the span (one per month, one for today's state): computed
    here, written by the caller (``snapshots._store_rows``)."""
    months, now = count_days(session, base, calendar)
    whole = span(base.today)
    rows = [(row_key(base, month), at, json.dumps(months.get(month, {})).encode())
            for month in _months(whole.start, whole.end)]
    rows.append((row_key(base, NOW), at, json.dumps(now).encode()))
    return rows


# -- the page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """The stored days needed for one page, all from one pass."""

    months: Months
    now: dict[str, list[list[Any]]]
    computed_at: datetime

    def figures(self, level: Level, period: periods.Period,
                families: Sequence[str] | None = None, with_days: bool = True,
                department_id: int | None = None) -> dict[Key, Figures]:
        """What :func:`reports.indicators.figures` gives for ``period`` (per area, or per
        unit), from the stored days."""
        found: dict[Key, dict[str, int]] = {}

        def counts_of(key: Key) -> dict[str, int]:
            return found.setdefault(key, dict.fromkeys(COUNT_NAMES, 0))

        wanted = {f"{level.value}/{_part_name(p)}": p for p in _parts(level)
                  if families is None or p.family.name in families}
        days: dict[Key, list[int]] = {}
        for day in _days(period):
            stored = self.months.get(f"{day:%Y-%m}", {}).get(day.isoformat(), {})
            for name, rows in stored.items():
                part = wanted.get(name)
                if part is not None:
                    for key, _n, *values in rows:
                        if department_id is None or key == department_id:
                            counts = counts_of(key)
                            for count_name, value in zip(part.names, values, strict=True):
                                counts[count_name] += value
                elif with_days and name == f"{level.value}/days":
                    for key, total, answers in rows:
                        if department_id is None or key == department_id:
                            pair = days.setdefault(key, [0, 0])
                            pair[0] += total
                            pair[1] += answers
        if families is None or NOW in families:
            family = next(f for f in FAMILIES[level] if f.name == NOW)
            for key, *values in self.now[level.value]:
                if department_id is None or key == department_id:
                    counts = counts_of(key)
                    for c, value in zip(family.counts, values, strict=True):
                        counts[c.name] = value
        keys = list(dict.fromkeys([*found, *days]))
        empty = [0, 0]
        return {k: Figures(found.get(k, dict.fromkeys(COUNT_NAMES, 0)),
                           (days.get(k, empty)[0], days.get(k, empty)[1]) if with_days else None,
                           level)
                for k in keys}

    def totals(self, scope: Scope, period: periods.Period,
               families: Sequence[str] | None = None, with_days: bool = True) -> Figures:
        """:func:`reports.indicators.totals` of ``period`` (the scope's unit, or the centre)."""
        if scope.department_id is not None:
            found = self.figures(Level.UNITS, period, families, with_days, scope.department_id)
            return found.get(scope.department_id) or Figures(
                dict.fromkeys(COUNT_NAMES, 0), (0, 0) if with_days else None, Level.UNITS)
        rows = self.figures(Level.CASES, period, families, with_days)
        if not rows:
            return Figures(dict.fromkeys(COUNT_NAMES, 0), (0, 0) if with_days else None)
        return sum_figures(rows.values())


def _days(period: periods.Period) -> Iterable[date]:
    day = period.start
    while day <= period.end:
        yield day
        day += timedelta(days=1)


# Parsed rows by (key, pass), kept by the caller (one per app: a process reads and parses
# a month once per pass).
Parsed = dict[tuple[str, datetime], Any]
MAX_PARSED = 64


def load(session: Session, scope: Scope, now: datetime, parsed: Parsed | None = None
         ) -> Days | None:
    """The stored days of ``scope``'s period and the previous period, if one fresh pass
    holds them all."""
    period, before = scope.period, scope.period.previous()
    whole = span(scope.today)
    if before.start < whole.start or period.end > whole.end:
        return None
    months = _months(before.start, period.end)
    keys = {row_key(scope, m): m for m in months}
    keys[row_key(scope, NOW)] = NOW
    rows = session.execute(select(ReportSnapshot.key, ReportSnapshot.computed_at)
                           .where(ReportSnapshot.key.in_(list(keys)))).all()
    if len(rows) != len(keys) or len({r.computed_at for r in rows}) != 1:
        return None
    computed_at = rows[0].computed_at
    if now - computed_at > MAX_AGE or computed_at > now:
        return None
    # A pass's rows do not change.
    cache: Parsed = {} if parsed is None else parsed
    missing = [key for key in keys if (key, computed_at) not in cache]
    if missing:
        fetched = session.execute(select(ReportSnapshot.key, ReportSnapshot.payload).where(
            ReportSnapshot.key.in_(missing),
            ReportSnapshot.computed_at == computed_at)).all()
        if len(fetched) != len(missing):
            return None  # replaced by a newer pass meanwhile
        if len(cache) > MAX_PARSED:
            cache.clear()
        for key, payload in fetched:
            cache[(key, computed_at)] = json.loads(payload)
    found = {part: cache[(key, computed_at)] for key, part in keys.items()}
    return Days({m: found[m] for m in months}, found[NOW], computed_at)


def view(days: Days, session: Session, scope: Scope) -> overview.Overview:
    """The page's figures of ``scope`` (centre or one unit) from the stored days: what
    :func:`reports.overview.build` computes."""
    period, before_period = scope.period, scope.period.previous()
    before = days.totals(scope, before_period, overview.PREVIOUS_FAMILIES, with_days=False)
    if scope.department_id is not None:
        return overview.unit_view(scope, days.totals(scope, period), before)
    areas = days.figures(Level.CASES, period)
    centre = sum_figures(areas.values())
    found = days.figures(Level.UNITS, period)
    units = [overview.UnitRow(dept_id, name, found[dept_id])
             for dept_id, name in overview.department_names(session).items()
             if dept_id in found and any(found[dept_id].counts.values())]
    return overview.Overview(scope=scope, totals=centre,
                             previous=overview.with_todays_state(before, centre),
                             units=units, areas=areas)
