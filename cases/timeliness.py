"""Case timeliness, once: due, late, on time, overdue now, hanging, settled, working days.

Every report, the ledger, the phone read-out and the console ask this module; each rule has a
Python form (over a case's or an assignment's loaded record) and a SQL form (for aggregate
queries) that ``tests/cases/test_timeliness.py`` runs side by side on generated histories.

The rules, in the notice's words (``docs/reports.md`` states each once):

- **A due date is passed** once the local date is after it: the whole due day is on time.
- **Once late, late in the period of the first miss.** ``first_missed_due`` keeps the first
  due date a case (or an assignment) missed — found by the sweep, by a late answer (any mode,
  即时办 too), or by an extension approved after the date — and is never cleared by an
  extension, a rework or a later answer. The case is assessed on that date, late.
- **Otherwise** it is assessed on its current due date: on time once answered by then (a
  reworked case: its latest round's answer), not yet decided before.
- **Answered in the month of the first answer**, whatever rating follows
  (``first_answered_on``); a rework does not move it.
- **Overdue now**: with departments and past the due date; or escalated (研判上报) and past the
  leading group's decision date without a decision. An assignment is overdue while its unit
  still has to act on it and its due date has passed — **an extension request does not stop
  the clock until it is approved** (the centre is reminded to decide it within one working
  day, :mod:`cases.reminders`).
- **Working days to answer** count from the effective day of receipt — the day received if it
  is a working day, else the next working day — to the first answer (0: the same day).
- **Working days late**: working days after the missed due date up to the answer (or today).
- **Hanging** (挂账) and **settled** (销账) are the ledger's states (:mod:`cases.ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

from cases.case_models import Assignment, Case
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, AssignmentState, Ledger, Status
from workdays.calendar import WorkCalendar

# Statuses in which a case's due date is running: with departments, or escalated and waiting
# for the leading group's decision (its due date is then the decision date).
RUNNING = (Status.HANDLING, Status.ESCALATED)


def is_past_due(due: date | None, today: date) -> bool:
    """True once ``today`` (a local date) is after ``due``."""
    return due is not None and today > due


# -- cases: Python form -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A case's (or an assignment's) timeliness on ``today``."""

    assessed_due: date | None  # the date the case is assessed on (period of 按时办结率)
    late: bool
    on_time: bool
    overdue_now: bool

    @property
    def decided(self) -> bool:
        """Counted in 应办结: late, or answered on time (else not yet due)."""
        return self.late or self.on_time

    @property
    def label(self) -> str:
        """The ledger's 是否按时: 是 / 否 / 未到期 (— without any due date)."""
        if self.assessed_due is None:
            return "—"
        return "否" if self.late else "是" if self.on_time else "未到期"


def case_overdue_now(case: Any, today: date) -> bool:
    return case.status in RUNNING and is_past_due(case.due_date, today)


def case_verdict(case: Any, today: date) -> Verdict:
    """``case``: anything with ``status``, ``due_date``, ``first_missed_due`` and
    ``answered_on`` (a :class:`Case`, or a row of the ledger's query)."""
    if case.status == Status.MERGED:
        return Verdict(None, False, False, False)
    overdue = case_overdue_now(case, today)
    late = (case.first_missed_due is not None or overdue
            or (case.answered_on is not None and is_past_due(case.due_date, case.answered_on)))
    on_time = not late and case.answered_on is not None and case.due_date is not None
    return Verdict(case.first_missed_due or case.due_date, late, on_time, overdue)


# -- assignments (units): Python form ------------------------------------------------------------


def assignment_overdue(assignment: Any, today: date) -> bool:
    """Its unit still has to act on it and its due date has passed (an extension request
    waiting for the centre's decision does not stop the clock)."""
    return (assignment.state in ACTIVE_ASSIGNMENT_STATES
            and is_past_due(assignment.due_date, today))


def assignment_verdict(assignment: Any, today: date) -> Verdict:
    """A unit's part, by the same rule on the assignment's own dates. A returned or
    withdrawn assignment counts only if it had already missed its date."""
    overdue = assignment_overdue(assignment, today)
    late = assignment.first_missed_due is not None or overdue
    on_time = not late and assignment.state == AssignmentState.REPLIED
    return Verdict(assignment.first_missed_due or assignment.due_date, late, on_time, overdue)


def unit_case_verdict(assignments: list[Any], today: date) -> Verdict:
    """A unit's verdict on one case (a unit's own ledger): late if any of its assignments
    is late; on time once its latest assignment is answered on time."""
    if not assignments:
        return Verdict(None, False, False, False)
    verdicts = [assignment_verdict(a, today) for a in assignments]
    late = [v for v in verdicts if v.late]
    if late:
        return Verdict(min(v.assessed_due for v in late if v.assessed_due) if any(
            v.assessed_due for v in late) else None, True, False, any(v.overdue_now
                                                                      for v in verdicts))
    last = verdicts[-1]
    return Verdict(last.assessed_due, False, last.on_time, False)


# -- SQL forms --------------------------------------------------------------------------------


def sql_case_overdue_now(today: date) -> ColumnElement[bool]:
    # Spelled per ledger state so that each branch can use a partial index.
    return or_(*(and_(Case.ledger_state == state, Case.status.in_(RUNNING),
                      Case.due_date < today) for state in (Ledger.OPEN, Ledger.HANGING)))


def sql_case_late(today: date) -> ColumnElement[bool]:
    return and_(Case.status != Status.MERGED, or_(
        Case.first_missed_due.is_not(None), Case.answered_on > Case.due_date,
        and_(Case.status.in_(RUNNING), Case.due_date < today)))


def sql_case_on_time(today: date) -> ColumnElement[bool]:
    return and_(Case.status != Status.MERGED, Case.first_missed_due.is_(None),
                Case.answered_on.is_not(None), Case.answered_on <= Case.due_date,
                or_(Case.status.not_in(RUNNING), Case.due_date >= today))


def sql_case_assessed_due() -> Any:
    return func.coalesce(Case.first_missed_due, Case.due_date)


def sql_assignment_overdue(today: date) -> ColumnElement[bool]:
    return and_(Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES), Assignment.due_date < today)


def sql_assignment_late(today: date) -> ColumnElement[bool]:
    return or_(Assignment.first_missed_due.is_not(None), sql_assignment_overdue(today))


def sql_assignment_on_time(today: date) -> ColumnElement[bool]:
    return and_(Assignment.state == AssignmentState.REPLIED,
                Assignment.first_missed_due.is_(None))


def sql_assignment_assessed_due() -> Any:
    return func.coalesce(Assignment.first_missed_due, Assignment.due_date)


# -- working days -------------------------------------------------------------------------------


def effective_receipt_day(received_on: date, calendar: WorkCalendar) -> date:
    """The day received if it is a working day, else the next working day."""
    return received_on if calendar.is_working(received_on) else \
        calendar.add_working_days(received_on, 1).day


def working_days_to_answer(received_on: date, answered_on: date,
                           calendar: WorkCalendar) -> int:
    """Working days from the effective day of receipt to the answer (0: the same day)."""
    start = effective_receipt_day(received_on, calendar)
    return max(calendar.working_days_between(start, answered_on), 0)


def working_days_late(due: date, until: date, calendar: WorkCalendar) -> int:
    """Working days after ``due`` up to ``until`` (the answer, or today)."""
    return max(calendar.working_days_between(due, until), 0)


# -- recording what happened (keeps the history the rules read) ---------------------------------


def note_missed(item: Case | Assignment, today: date) -> bool:
    """Remember the first due date ``item`` missed; True if this is that first miss."""
    if item.first_missed_due is None and is_past_due(item.due_date, today):
        item.first_missed_due = item.due_date
        return True
    return False


def note_answer(case: Case, now: datetime, tz: tzinfo) -> bool:
    """The case is answered at ``now`` (any mode, 即时办 too): its first answer is kept, and
    an answer after the due date is the case's miss. True if this answer came late."""
    today = now.astimezone(tz).date()
    if case.first_answered_at is None:
        case.first_answered_at = now
        case.first_answered_on = today
    note_missed(case, today)
    return is_past_due(case.due_date, today)
