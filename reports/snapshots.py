"""Figures computed ahead: the 统计 page's standard periods, refreshed by a periodic job.

A month's figures over a million cases take a few dozen aggregate queries — most of a
second. The periods supervisors open (this month, last month, this quarter, this year)
are computed every few minutes by ``refresh_snapshots_job`` and stored in the database,
so every web process and node serves them at once; each unit's own page of those periods
comes from the same pass. The page says when its figures were computed and a supervisor
can recompute a period on the spot; other periods are computed when asked. See
``docs/reports.md``.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db import write_intent
from core.dialect import is_postgresql, upsert
from reports import daily, overview, periods
from reports.calls import CallFigures, Hotline, call_figures
from reports.freshness import MAX_AGE, settings_digest
from reports.indicators import COUNT_NAMES, Dimension, Figures, Level, Scope, figures
from reports.models import ReportSnapshot
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True)
class Snapshot:
    """The 统计 page's figures of one scope, and when they were computed."""

    view: overview.Overview
    calls: CallFigures | None
    computed_at: datetime
    seconds: float


def standard_periods(today: date) -> list[periods.Period]:
    """The periods the page offers first: this month, last month, this quarter, this year."""
    this_month = periods.month(today.year, today.month)
    return [this_month, this_month.previous(),
            periods.quarter(today.year, (today.month - 1) // 3 + 1), periods.year(today.year)]


def snapshot_key(scope: Scope) -> str:
    """Everything the figures depend on: period, unit, the day of "now", the settings."""
    unit = "centre" if scope.department_id is None else f"unit{scope.department_id}"
    return (f"v{FORMAT}:{unit}:{scope.period.start}:{scope.period.end}:{scope.today}:"
            f"{settings_digest(scope)}")


def compute(session: Session, scope: Scope, calendar: WorkCalendar,
            hotline: Hotline, now: datetime) -> Snapshot:
    started = time.perf_counter()
    if scope.department_id is not None:
        return Snapshot(overview.build(session, scope, calendar), None, now,
                        time.perf_counter() - started)
    seconds = scope.settings.operator_answer_seconds
    if not is_postgresql(session):
        view = overview.build(session, scope, calendar)
        calls = call_figures(session, scope, hotline, seconds)
        return Snapshot(view, calls, now, time.perf_counter() - started)
    # The hotline figures (call log) on a connection of their own, meanwhile.
    with ThreadPoolExecutor(1, thread_name_prefix="snapshot-calls") as pool:
        later = pool.submit(overview.apart, session.get_bind(), call_figures, scope,
                            hotline, seconds)
        view = overview.build(session, scope, calendar)
        return Snapshot(view, later.result(), now, time.perf_counter() - started)


def from_days(session: Session, scope: Scope, hotline: Hotline, now: datetime,
              parsed: daily.Parsed | None = None) -> Snapshot | None:
    """The scope's figures summed from the days the job counted ahead (``reports.daily``),
    if a fresh pass holds the period and the previous one; the hotline figures (a few
    small queries of the call log) are computed now. ``parsed``: the caller's rows already
    read."""
    started = time.perf_counter()
    days = daily.load(session, scope, now, parsed)
    if days is None:
        return None
    view = daily.view(days, session, scope)
    calls = None if scope.department_id is not None else call_figures(
        session, scope, hotline, scope.settings.operator_answer_seconds)
    return Snapshot(view, calls, days.computed_at, time.perf_counter() - started)


def store(session: Session, scope: Scope, snapshot: Snapshot) -> None:
    """Keep ``snapshot`` as the scope's figures, replacing any earlier one."""
    _store_rows(session, [_row(scope, snapshot)])


# A row of ``report_snapshots`` to write: key, computed_at, payload.
_Row = tuple[str, datetime, bytes]


def _row(scope: Scope, snapshot: Snapshot) -> _Row:
    return (snapshot_key(scope), snapshot.computed_at,
            json.dumps(_encode(snapshot), ensure_ascii=False).encode())


def _store_rows(session: Session, rows: list[_Row]) -> None:
    for key, computed_at, payload in rows:
        _upsert(session, key, computed_at, payload)


def _upsert(session: Session, key: str, computed_at: datetime, payload: bytes) -> None:
    # One statement: the job and a supervisor's 立即刷新 may store the same key at once.
    values = {"key": key, "computed_at": computed_at, "payload": payload}
    session.execute(upsert(session, ReportSnapshot, values, index_elements=[ReportSnapshot.key],
                           update=["computed_at", "payload"]))


def _fresh(session: Session, key: str, now: datetime) -> ReportSnapshot | None:
    row = session.get(ReportSnapshot, key)
    if row is None or now - row.computed_at > MAX_AGE or row.computed_at > now:
        return None
    return row


def load(session: Session, scope: Scope, now: datetime) -> Snapshot | None:
    """The scope's stored figures, if computed within ``MAX_AGE`` of ``now``."""
    row = _fresh(session, snapshot_key(scope), now)
    if row is None:
        return None
    try:
        return _decode(json.loads(row.payload), scope, row.computed_at)
    except (KeyError, TypeError, ValueError):
        log.warning("reports: unreadable snapshot %s ignored", row.key)
        return None


def refresh(session: Session, scope: Scope, calendar: WorkCalendar,
            hotline: Hotline, now: datetime) -> Snapshot:
    """Compute the scope's figures now and keep them (the page's 立即刷新)."""
    snapshot = compute(session, scope, calendar, hotline, now)
    store(session, scope, snapshot)
    return snapshot


def refresh_units(session: Session, scope: Scope, calendar: WorkCalendar,
                  centre: Snapshot) -> int:
    """Every unit's own page for the period, from the centre's unit rows: only the
    previous period's unit figures are computed (one grouped pass for all units)."""
    rows = _unit_rows(session, scope, calendar, centre)
    _store_rows(session, rows)
    return len(rows)


def _unit_rows(session: Session, scope: Scope, calendar: WorkCalendar,
               centre: Snapshot) -> list[_Row]:
    started = time.perf_counter()
    before = figures(session, replace(scope, period=scope.period.previous()), calendar,
                     Level.UNITS, Dimension.UNIT, families=overview.PREVIOUS_FAMILIES,
                     with_days=False)
    empty = Figures(dict.fromkeys(COUNT_NAMES, 0), None, Level.UNITS)
    rows = []
    for row in centre.view.units:
        unit_scope = replace(scope, department_id=row.department_id)
        view = overview.unit_view(unit_scope, row.figures, before.get(row.department_id, empty))
        rows.append(_row(unit_scope, Snapshot(view, None, centre.computed_at,
                                              time.perf_counter() - started)))
    return rows


# -- charts -------------------------------------------------------------------------------

CHARTS = ("volume", "trend", "units")


def chart_key(scope: Scope, name: str) -> str:
    return f"{snapshot_key(scope)}:{name}"


def draw_chart(session: Session, scope: Scope, calendar: WorkCalendar, name: str,
               unit_rows: list[overview.UnitRow] | None = None) -> bytes:
    """One of the page's charts as PNG (``unit_rows``: when already computed)."""
    if name == "volume":
        return overview.volume_chart(session, scope)
    if name == "trend":
        return overview.trend_chart(session, scope)
    if name == "units":
        return overview.units_chart(session, scope, calendar, unit_rows)
    raise KeyError(name)


def load_chart(session: Session, scope: Scope, name: str, now: datetime) -> bytes | None:
    """The chart drawn with the scope's stored figures, if as fresh as they must be."""
    row = _fresh(session, chart_key(scope, name), now)
    return None if row is None else row.payload


def _trend_end(scope: Scope) -> tuple[date, int | None, str]:
    # Volume and trend charts show the 12 months up to the period's last month: a quarter
    # and a year ending in the same month draw the same chart.
    return scope.period.end, scope.department_id, scope.today.isoformat()


def refresh_period(session: Session, scope: Scope, calendar: WorkCalendar,
                   hotline: Hotline, now: datetime,
                   drawn: dict[tuple[Any, ...], bytes] | None = None) -> Snapshot:
    """The centre's figures of a period, every unit's page of it and the charts, computed
    now and kept (the page's 立即刷新: in its request's transaction)."""
    centre, rows = _period_rows(session, scope, calendar, hotline, now, drawn)
    _store_rows(session, rows)
    return centre


def _period_rows(session: Session, scope: Scope, calendar: WorkCalendar,
                 hotline: Hotline, now: datetime,
                 drawn: dict[tuple[Any, ...], bytes] | None) -> tuple[Snapshot, list[_Row]]:
    """Everything :func:`refresh_period` keeps, computed (reads only)."""
    centre = compute(session, scope, calendar, hotline, now)
    rows = [_row(scope, centre), *_unit_rows(session, scope, calendar, centre)]
    drawn = {} if drawn is None else drawn
    for name in CHARTS:
        memo = (name, *_trend_end(scope)) if name != "units" else None
        if memo is not None and memo in drawn:
            png = drawn[memo]
        else:
            png = draw_chart(session, scope, calendar, name, centre.view.units)
            if memo is not None:
                drawn[memo] = png
        rows.append((chart_key(scope, name), now, png))
    return centre, rows


def refresh_standard(session: Session, base: Scope, calendar: WorkCalendar,
                     hotline: Hotline, now: datetime) -> list[Snapshot]:
    """The standard periods, each committed as soon as it is computed; stale rows (an
    earlier day's) are deleted. Returns the centre's figures.

    Each period is computed in a transaction that only reads, then written in a short one
    that takes the write lock first (SQLite, ``core.db.write_intent``): computing takes
    seconds on a large ledger, and on SQLite a transaction that read while another
    connection committed cannot write any more ("database is locked"); nor should the
    console's saves wait for the figures.
    """
    done = []
    drawn: dict[tuple[Any, ...], bytes] = {}
    for period in standard_periods(base.today):
        scope = Scope(period=period, today=base.today, tz=base.tz, settings=base.settings)
        centre, rows = _period_rows(session, scope, calendar, hotline, now, drawn)
        session.commit()  # the reading ends here
        with write_intent():
            _store_rows(session, rows)
            session.commit()
        done.append(centre)
    # Every day of the last twelve months to the end of the year, for any other period
    # (reports.daily).
    rows = daily.rows(session, base, calendar, now)
    session.commit()
    with write_intent():
        _store_rows(session, rows)
        session.commit()
    with write_intent():
        session.execute(delete(ReportSnapshot).where(ReportSnapshot.computed_at < now - MAX_AGE))
        session.commit()
    return done


def stored_keys(session: Session) -> list[str]:
    return list(session.scalars(select(ReportSnapshot.key).order_by(ReportSnapshot.key)))


# -- encoding ---------------------------------------------------------------------------------


def _figures(f: Figures) -> dict[str, Any]:
    return {"counts": f.counts, "days": list(f.days) if f.days is not None else None,
            "level": f.level.value}


def _read_figures(raw: dict[str, Any]) -> Figures:
    days = raw["days"]
    return Figures({k: int(v) for k, v in raw["counts"].items()},
                   (int(days[0]), int(days[1])) if days is not None else None,
                   Level(raw["level"]))


def _encode(snapshot: Snapshot) -> dict[str, Any]:
    view = snapshot.view
    return {
        "totals": _figures(view.totals), "previous": _figures(view.previous),
        "units": [{"id": u.department_id, "name": u.name, "figures": _figures(u.figures)}
                  for u in view.units],
        # Area keys are codes or None (no area): kept as a list of pairs.
        "areas": [[key, _figures(f)] for key, f in view.areas.items()],
        "calls": None if snapshot.calls is None else {
            "counts": snapshot.calls.counts, "survey": snapshot.calls.survey_outcomes},
        "seconds": snapshot.seconds,
    }


def _decode(raw: dict[str, Any], scope: Scope, computed_at: datetime) -> Snapshot:
    view = overview.Overview(
        scope=scope, totals=_read_figures(raw["totals"]),
        previous=_read_figures(raw["previous"]),
        units=[overview.UnitRow(int(u["id"]), str(u["name"]), _read_figures(u["figures"]))
               for u in raw["units"]],
        areas={key: _read_figures(f) for key, f in raw["areas"]})
    calls = raw["calls"]
    return Snapshot(view, None if calls is None else CallFigures(
        {k: int(v) for k, v in calls["counts"].items()},
        {k: int(v) for k, v in calls["survey"].items()}), computed_at, float(raw["seconds"]))
