"""The periodic job: the monthly bulletin's draft on the first working day of each month."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from call_flows.workdays import WorkCalendar
from core.clock import system_clock
from core.db import db
from reports import bulletin, periods
from reports.context import app_calendar, app_tz

log = logging.getLogger(__name__)
DRAFT_AUTHOR = "系统（每月首个工作日自动生成）"


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


def draft_monthly_bulletin_job() -> bool:
    """Periodic (hourly): idempotent; the unique month makes a second scheduler a no-op."""
    from workers import context

    app = context.get_app()
    now = (app.config.get("CLOCK") or system_clock)()
    with app.app_context(), db.transaction() as session:
        return draft_if_due(session, app_calendar(app), now, now.astimezone(app_tz(app)).date())
