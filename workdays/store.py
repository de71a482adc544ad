"""The working-day calendar with the administrator's overrides from the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workdays.calendar import Override, WorkCalendar
from workdays.models import WorkdayOverride

# Overrides change a few times a year; re-reading them every minute keeps webhooks cheap.
CACHE_SECONDS = 60.0


def load_overrides(session: Session) -> dict[date, Override]:
    rows = session.scalars(select(WorkdayOverride))
    return {row.day: Override(working=row.working, note=row.note) for row in rows}


def set_override(session: Session, day: date, working: bool, note: str, by: str = "cli"
                 ) -> WorkdayOverride:
    row = session.get(WorkdayOverride, day)
    if row is None:
        row = WorkdayOverride(day=day, working=working, note=note, created_by=by)
        session.add(row)
    else:
        row.working, row.note, row.created_by = working, note, by
    CalendarProvider.invalidate_all()
    return row


def delete_override(session: Session, day: date) -> bool:
    row = session.get(WorkdayOverride, day)
    if row is None:
        return False
    session.delete(row)
    CalendarProvider.invalidate_all()
    return True


class CalendarProvider:
    """Hands out a :class:`WorkCalendar`, rebuilt when overrides change or the cache ages."""

    _generation = 0
    _lock = threading.Lock()

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self._calendar: WorkCalendar | None = None
        self._built_at = 0.0
        self._built_generation = -1

    @classmethod
    def invalidate_all(cls) -> None:
        with cls._lock:
            cls._generation += 1

    def get(self) -> WorkCalendar:
        stale = (
            self._calendar is None
            or self._built_generation != CalendarProvider._generation
            or time.monotonic() - self._built_at > CACHE_SECONDS
        )
        if stale:
            generation = CalendarProvider._generation
            overrides = load_overrides(self._session_factory())
            self._calendar = WorkCalendar(overrides)
            self._built_at = time.monotonic()
            self._built_generation = generation
        assert self._calendar is not None
        return self._calendar
