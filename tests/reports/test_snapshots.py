"""Figures computed ahead (reports/snapshots.py) on the constructed month."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.flow import load_flows
from core import jobs as context
from core.db import db
from core.queues import REPORTS
from reports import daily, freshness, overview, periods, snapshots
from reports.calls import Hotline, call_nodes
from reports.indicators import Dimension, Level, Scope, figures, totals
from reports.jobs import refresh_snapshots_job
from reports.models import ReportSnapshot
from reports.settings import ReportSettings
from tests.cases.factories import CALENDAR, local, new_case
from tests.reports.month import NOW_TEXT, TODAY, build_month
from tests.sqlite_races import StaleSnapshots
from workdays.office_hours import OfficeHours, parse_windows
from workers.periodic import PERIODIC

TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11)
HOTLINE = Hotline(OfficeHours(parse_windows("08:30-12:00,13:30-17:30"), CALENDAR, TZ),
                  call_nodes(load_flows()["hotline"]))


def scope(period: periods.Period = NOVEMBER, **changes: Any) -> Scope:
    return replace(Scope(period=period, today=TODAY, tz=TZ), **changes)


def now() -> datetime:
    return local(NOW_TEXT)


def compute_and_store(session: Session, sc: Scope, at: datetime | None = None
                      ) -> snapshots.Snapshot:
    snapshot = snapshots.refresh(session, sc, CALENDAR, HOTLINE, at or now())
    session.commit()
    return snapshot


def test_centre_figures_are_the_sum_of_the_areas(session: Session) -> None:
    build_month(session)
    view = overview.build(session, scope(), CALENDAR)
    direct = totals(session, scope(), CALENDAR)
    assert view.totals.counts == direct.counts
    assert view.totals.average_days == direct.average_days is not None
    assert view.areas == figures(session, scope(), CALENDAR, Level.CASES, Dimension.AREA)


def test_previous_period_keeps_todays_state_and_skips_what_has_no_change(
        session: Session) -> None:
    build_month(session)
    view = overview.build(session, scope(periods.month(2026, 12)), CALENDAR)
    november = totals(session, scope(), CALENDAR)
    for name in ("received", "answered", "due", "on_time", "late", "rated", "satisfied",
                 "followed_up"):
        assert view.previous[name] == november[name], name
    # "Now" is today's state in both periods: the change column shows none.
    assert view.previous["overdue_now"] == view.totals["overdue_now"] == 1
    assert view.change("hanging_now") == 0


def test_stored_figures_read_back_equal(session: Session) -> None:
    build_month(session)
    computed = compute_and_store(session, scope())
    loaded = snapshots.load(session, scope(), now() + timedelta(minutes=1))
    assert loaded is not None
    assert loaded.view.totals == computed.view.totals
    assert loaded.view.previous == computed.view.previous
    assert loaded.view.units == computed.view.units and len(loaded.view.units) == 2
    assert loaded.view.areas == computed.view.areas
    assert loaded.calls is not None and computed.calls is not None
    assert loaded.calls.counts == computed.calls.counts
    assert loaded.computed_at == now()


def test_old_figures_are_not_served(session: Session) -> None:
    build_month(session)
    compute_and_store(session, scope())
    assert snapshots.load(session, scope(), now() + freshness.MAX_AGE) is not None
    assert snapshots.load(session, scope(), now() + freshness.MAX_AGE
                          + timedelta(seconds=1)) is None


def test_figures_of_another_day_unit_or_settings_are_not_served(session: Session) -> None:
    build_month(session)
    compute_and_store(session, scope())
    assert snapshots.load(session, scope(today=TODAY + timedelta(days=1)), now()) is None
    assert snapshots.load(session, scope(department_id=1), now()) is None
    other = ReportSettings(satisfied_min_score=4)
    assert snapshots.load(session, scope(settings=other), now()) is None


def test_an_unreadable_snapshot_is_ignored(session: Session) -> None:
    build_month(session)
    compute_and_store(session, scope())
    row = session.scalars(select(ReportSnapshot)).one()
    row.payload = b'{"totals": {}}'
    session.commit()
    assert snapshots.load(session, scope(), now()) is None


def test_a_second_store_replaces_the_first(session: Session) -> None:
    build_month(session)
    compute_and_store(session, scope())
    later = now() + timedelta(minutes=5)
    compute_and_store(session, scope(), later)
    session.expire_all()
    rows = session.scalars(select(ReportSnapshot)).all()
    assert len(rows) == 1 and rows[0].computed_at == later


def test_each_units_page_comes_from_the_centres_pass(session: Session) -> None:
    month = build_month(session)
    centre = compute_and_store(session, scope())
    assert snapshots.refresh_units(session, scope(), CALENDAR, centre) == 2
    session.commit()
    for unit in (month.unit_1, month.unit_2):
        stored = snapshots.load(session, scope(department_id=unit), now())
        direct = overview.build(session, scope(department_id=unit), CALENDAR)
        assert stored is not None and stored.calls is None
        assert (stored.view.totals, stored.view.previous) == (direct.totals, direct.previous)
        assert stored.view.units == [] and stored.view.areas == {}
    assert stored.view.totals["received"] == 2  # UNIT_2: F (co-handling) and H (退单)


def test_charts_are_drawn_with_the_figures_and_served_while_fresh(session: Session) -> None:
    build_month(session)
    snapshots.refresh_period(session, scope(), CALENDAR, HOTLINE, now())
    session.commit()
    for name in snapshots.CHARTS:
        png = snapshots.load_chart(session, scope(), name, now())
        assert png is not None and png[:4] == b"\x89PNG", name
    late = now() + freshness.MAX_AGE + timedelta(seconds=1)
    assert snapshots.load_chart(session, scope(), "trend", late) is None
    assert snapshots.load_chart(session, scope(department_id=1), "trend", now()) is None


def test_standard_periods_are_this_and_last_month_this_quarter_and_year() -> None:
    assert [p.label for p in snapshots.standard_periods(TODAY)] == [
        periods.month(2026, 12).label, periods.month(2026, 11).label,
        periods.quarter(2026, 4).label, periods.year(2026).label]


@pytest.fixture
def jobs(app: Any) -> Iterator[Any]:
    context.set_app(app)
    yield app
    context.set_app(None)
    db.session.remove()


@pytest.fixture
def sketched_charts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The job's charts, injected by the test: a stand-in PNG per chart, noted as asked for.
    Drawing them (matplotlib) is most of the job's time and is what
    test_charts_are_drawn_with_the_figures_and_served_while_fresh checks; the job tests are
    about which periods are kept and the job's transactions."""
    asked: list[tuple[str, str]] = []

    def draw(_session: Session, sc: Scope, _calendar: Any, name: str,
             _unit_rows: Any = None) -> bytes:
        asked.append((sc.period.label, name))
        return b"\x89PNG\r\n\x1a\n" + name.encode()

    monkeypatch.setattr(snapshots, "draw_chart", draw)
    return asked


def test_the_job_computes_the_standard_periods_and_drops_stale_ones(
        jobs: Any, clock: Any, sketched_charts: list[tuple[str, str]]) -> None:
    session = db.session()
    build_month(session)
    session.commit()
    clock.set_local("2026-12-07 10:00")
    assert refresh_snapshots_job() == 4
    clock.set_local(NOW_TEXT)
    assert refresh_snapshots_job() == 4
    db.session.remove()
    keys = snapshots.stored_keys(db.session())
    # Yesterday's are gone; today's remain: per standard period the centre's and, where a
    # unit has figures, the unit's (both units in November and Q4/2026, one in December).
    assert all(f":{TODAY}:" in k for k in keys)
    # The figures by day (reports.daily): a row per month from December 2025 to the end of
    # 2026, and today's state.
    days = [k for k in keys if k.startswith(f"d{daily.FORMAT}:")]
    assert len(days) == 13 + 1
    charts = [k for k in keys if k.endswith(snapshots.CHARTS)]
    figures_keys = [k for k in keys if k not in charts and k not in days]
    assert sum(":centre:" in k for k in figures_keys) == 4
    assert len(figures_keys) == 4 + 2 + 1 + 2 + 2 and len(charts) == 4 * 3
    assert all(snapshots.load_chart(db.session(), scope(p, settings=ReportSettings()), name,
                                    now()) for p in snapshots.standard_periods(TODAY)
               for name in snapshots.CHARTS)
    november = snapshots.load(db.session(), scope(settings=ReportSettings()), now())
    assert november is not None and november.view.totals["received"] == 7


def test_the_job_meets_other_writers_without_failing(
        jobs: Any, clock: Any, caplog: pytest.LogCaptureFixture,
        sketched_charts: list[tuple[str, str]]) -> None:
    """``make run``'s first start: the job runs at once, while other processes write (the
    other jobs, seeding, the first calls). On SQLite a transaction that read while another
    connection committed cannot write any more ("database is locked"); here that commit
    comes between the job's figures and its first write every time (tests/sqlite_races.py)."""
    session = db.session()
    build_month(session)
    session.commit()
    db.session.remove()
    clock.set_local(NOW_TEXT)
    stop = threading.Event()

    def other_writer() -> None:
        for n in range(500):
            if stop.is_set():
                return
            with db.transaction() as s:
                new_case(s, now(), f"另一进程登记的诉求{n}")
            stop.wait(0.01)

    results: list[Any] = []

    def job() -> None:
        try:
            results.append(refresh_snapshots_job())
        except Exception as exc:
            results.append(exc)
        finally:
            db.session.remove()

    assert db.engine is not None
    writer = threading.Thread(target=other_writer, name="writer")
    runner = threading.Thread(target=job, name="snapshots")
    with StaleSnapshots(db.engine, watched=lambda: threading.current_thread() is runner):
        writer.start()
        runner.start()
        runner.join(120)
        stop.set()
        writer.join(30)
    assert results == [4] and sketched_charts  # the charts were asked for, in the reading
    failures = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.ERROR or r.exc_info or "locked" in r.getMessage()]
    assert failures == []


def test_the_job_is_periodic_on_the_reports_queue() -> None:
    job = next(p for p in PERIODIC if p.func is refresh_snapshots_job)
    assert job.queue == REPORTS and job.interval == freshness.REFRESH_SECONDS
