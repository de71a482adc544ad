"""Due dates from the working-day calendar (docs/decisions.md §2, notice 三(二)、(三)).

- 即时办 instant and the centre's own triage: due the day received — or, for a case received
  after the close of business or on a day off, the next working day (its close of business).
  After a 退单 the centre's target is counted again from the day the case came back.
- 流转办 routed: 2 working days after the department receives the case (the routing day).
- 专班商办 joint: 5 working days after the joint meeting.
- 研判上报 escalated: the deadline set by the leading group's decision.
- An agreed deadline (约定办结时限) replaces the rule's date.

A day that is not a working day counts as the next working day (``WorkCalendar``). Dates
come from the official calendar, the administrator's overrides, or the provisional
Mon–Fri fallback; a fallback date is stored with ``due_provisional``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from sqlalchemy.orm import Session

from cases.timeliness import is_past_due
from workdays.calendar import DueDate, WorkCalendar
from workdays.office_hours import parse_windows
from workdays.store import load_overrides

ROUTED_WORKING_DAYS = 2
JOINT_WORKING_DAYS = 5
DECISION_WORKING_DAYS = 5


# The close of business of the default OFFICE_HOURS (08:30-12:00,13:30-17:30), for callers
# without an app (benchmarks, unit tests); the app's comes through cases.services.
DEFAULT_CLOSES_AT = time(17, 30)


def close_of_business(office_hours: str) -> time:
    """When the centre's working day ends: the end of the last window of ``OFFICE_HOURS``."""
    return parse_windows(office_hours)[-1][1]


def calendar_for(session: Session) -> WorkCalendar:
    """A calendar with the administrator's overrides read from the database."""
    return WorkCalendar(load_overrides(session))


@dataclass(frozen=True)
class Deadline:
    """A due date with the reason shown to users next to it."""

    day: date | None
    provisional: bool
    reason: str


class Deadlines:
    """The notice's time limits on one calendar and time zone."""

    def __init__(self, calendar: WorkCalendar, tz: tzinfo,
                 closes_at: time | None = None) -> None:
        self.calendar = calendar
        self.tz = tz
        self.closes_at = closes_at or DEFAULT_CLOSES_AT

    def local_date(self, at: datetime) -> date:
        """The local calendar date of an aware datetime."""
        return at.astimezone(self.tz).date()

    def _rule(self, start: date | datetime, n: int, reason: str) -> Deadline:
        due: DueDate = self.calendar.due_date(start, n, self.tz)
        return Deadline(due.day, due.provisional, reason)

    def same_day(self, received_at: datetime, reason: str = "受理当日答复或流转") -> Deadline:
        """The centre answers or routes on the day it receives the case; received after the
        close of business or on a day off, by the next working day's close of business."""
        local = received_at.astimezone(self.tz)
        info = self.calendar.info(local.date())
        if info.working and local.time() < self.closes_at:
            return Deadline(info.day, info.provisional, reason)
        # ``add_working_days`` never counts the start day: Friday night and Saturday both
        # give Monday, a holiday eve the first working day after the holiday.
        due = self.calendar.add_working_days(local.date(), 1)
        return Deadline(due.day, due.provisional or info.provisional,
                        "非工作时间受理：次一工作日下班前答复或流转")

    def requeued(self, returned_at: datetime) -> Deadline:
        """After a 退单 the centre re-routes from the day the case came back."""
        return self.same_day(returned_at, "退单后重新交办：退回当日")

    def routed(self, routed_at: datetime) -> Deadline:
        return self._rule(
            routed_at, ROUTED_WORKING_DAYS, f"流转办：收到之日起{ROUTED_WORKING_DAYS}个工作日内"
        )

    def joint(self, meeting_day: date) -> Deadline:
        return self._rule(
            meeting_day, JOINT_WORKING_DAYS, f"专班商办：商办会后{JOINT_WORKING_DAYS}个工作日内"
        )

    def rework(self, rated_at: datetime, mode: str | None) -> Deadline:
        """重办 after a poor rating: the routed rule again, or 5 working days for joint work."""
        n = ROUTED_WORKING_DAYS if mode == "routed" else JOINT_WORKING_DAYS
        return self._rule(rated_at, n, f"重办：{n}个工作日内")

    def decision(self, escalated_at: datetime, n: int) -> Deadline:
        """研判上报: the leading group decides within ``n`` working days of the escalation."""
        return self._rule(escalated_at, n, f"研判上报：领导小组{n}个工作日内作出决定")

    @staticmethod
    def decided(deadline: date) -> Deadline:
        return Deadline(deadline, False, "研判上报：领导小组确定的时限")

    @staticmethod
    def agreed(deadline: date, reason: str) -> Deadline:
        return Deadline(deadline, False, f"约定办结时限：{reason}"[:200])

    def is_overdue(self, due: date | None, now: datetime) -> bool:
        """Past the due day in local time (the whole due day counts as on time)."""
        return is_past_due(due, self.local_date(now))


def spoken_date(day: date, today: date) -> str:
    """A due date as said on the phone: ``11月30日``, with the year if it is not this year."""
    text = f"{day.month}月{day.day}日"
    return text if day.year == today.year else f"{day.year}年{text}"
