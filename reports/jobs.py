"""Periodic jobs: the 统计 page's figures computed ahead, and the monthly bulletin's draft on
the first working day of each month."""

from __future__ import annotations

import contextlib
import logging
from datetime import date, datetime, timedelta

from redis.exceptions import LockError, RedisError
from sqlalchemy.orm import Session

from core.clock import clock_of
from core.db import db, retry_when_locked
from reports import bulletin, periods, snapshots
from reports.context import app_calendar, app_hotline, app_tz, scope_for
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)
DRAFT_AUTHOR = "系统（每月首个工作日自动生成）"
LOCK_KEY = "hotline:reports:bulletin-draft"


def first_working_day(calendar: WorkCalendar, year: int, month: int) -> date:
    day = date(year, month, 1)
    while not calendar.is_working(day):
        day += timedelta(days=1)
    return day


def draft_if_due(session: Session, calendar: WorkCalendar, now: datetime, today: date) -> bool:
    """On (or after, within the month) the first working day: last month's draft, once."""
    if today < first_working_day(calendar, today.year, today.month):
        return False
    last_month = periods.month(today.year, today.month).previous()
    created = bulletin.create_draft(session, last_month, by=DRAFT_AUTHOR, now=now)
    if created is not None:
        log.info("reports: bulletin draft for %s created (issue %d)", created.month,
                 created.issue_number)
    return created is not None


@retry_when_locked
def draft_monthly_bulletin_job() -> bool:
    """Periodic (hourly). Once-only twice over: a Redis lock keeps a second scheduler's run
    from starting the work at the same time, and the unique month (``ON CONFLICT DO
    NOTHING``) makes any later or lock-less run a no-op."""
    from core import jobs
    from core.queues import connect

    app = jobs.get_app()
    now = clock_of(app.config)()
    lock = None
    if app.config.get("REDIS_URL"):
        lock = connect(app.config["REDIS_URL"]).lock(LOCK_KEY, timeout=600)
        try:
            if not lock.acquire(blocking=False):
                return False
        except RedisError as exc:  # the unique month alone is still correct
            log.warning("bulletin draft lock unavailable: %s", exc)
            lock = None
    try:
        with app.app_context():
            calendar = app_calendar(app)
            with db.transaction() as session:
                return draft_if_due(session, calendar, now, now.astimezone(app_tz(app)).date())
    finally:
        if lock is not None:
            with contextlib.suppress(LockError, RedisError):
                lock.release()


@retry_when_locked
def refresh_snapshots_job() -> int:
    """Periodic (every ``freshness.REFRESH_SECONDS``): the centre's standard periods.
    Idempotent (upserts): a lock conflict runs it again."""
    from core import jobs

    app = jobs.get_app()
    now = clock_of(app.config)()
    with app.app_context():
        base = scope_for(app, periods.month(2000, 1))
        with db.transaction() as session:
            done = snapshots.refresh_standard(session, base, app_calendar(app),
                                              app_hotline(app), now)
    log.info("reports: figures of %d periods computed in %.1f s", len(done),
             sum(s.seconds for s in done))
    return len(done)
