"""Building a report's scope from the running app: clock, time zone, calendar, settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from call_flows.roles import HOTLINE_FLOW
from core.clock import clock_of
from reports.calls import Hotline, call_nodes
from reports.indicators import Scope
from reports.periods import Period
from reports.settings import settings_from
from workdays.calendar import WorkCalendar
from workdays.office_hours import OfficeHours, parse_windows


def app_tz(app: Any) -> ZoneInfo:
    return ZoneInfo(app.config["HOTLINE_TZ"])


def app_now(app: Any) -> datetime:
    clock = clock_of(app.config)
    return clock()


def app_today(app: Any) -> date:
    clock = clock_of(app.config)
    return clock().astimezone(app_tz(app)).date()


def app_calendar(app: Any) -> WorkCalendar:
    """The working-day calendar with the administrator's overrides."""
    return app.extensions["calendars"].get()


def app_office_hours(app: Any) -> OfficeHours:
    return OfficeHours(parse_windows(app.config["OFFICE_HOURS"]), app_calendar(app),
                       app_tz(app))


def app_hotline(app: Any) -> Hotline:
    """Office hours and the hotline flow's nodes (by role) for the call figures."""
    flow = app.extensions["ivr_runtime"].engine.loaded_flows[HOTLINE_FLOW]
    return Hotline(app_office_hours(app), call_nodes(flow))


def scope_for(app: Any, period: Period, department_id: int | None = None) -> Scope:
    return Scope(period=period, today=app_today(app), tz=app_tz(app),
                 settings=settings_from(app.config), department_id=department_id)
