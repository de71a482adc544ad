"""What "overdue" means, once, for SQL and for loaded rows.

A due date is passed once the local date is after it (the whole due day counts as on time).
An assignment is overdue when its department still has to act on it (pending or accepted),
its due date is passed, and it has no undecided extension request — a department that asked
for more time before the deadline is not late while the centre decides.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, or_

from cases.case_models import Assignment
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, Extension


def is_past_due(due: date | None, today: date) -> bool:
    """True once ``today`` (a local date) is after ``due``."""
    return due is not None and today > due


def assignment_is_overdue(assignment: Assignment, today: date) -> bool:
    """The Python form of :func:`overdue_assignment`, for rows already loaded."""
    return (
        assignment.state in ACTIVE_ASSIGNMENT_STATES
        and assignment.extension_status != Extension.REQUESTED
        and is_past_due(assignment.due_date, today)
    )


def overdue_assignment(today: date) -> ColumnElement[bool]:
    """The SQL form of :func:`assignment_is_overdue`."""
    return and_(
        Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
        or_(Assignment.extension_status.is_(None),
            Assignment.extension_status != Extension.REQUESTED),
        Assignment.due_date < today,
    )
