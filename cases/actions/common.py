"""What every step after intake shares: loading rows, checking text and units, the deadlines,
assigning units, recording one audit event, and marking a case answered.

Used by the modules of :mod:`cases.actions` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import ledger, sms, timeliness
from cases.actors import Actor
from cases.audit import changed, record_event, snapshot
from cases.case_models import Assignment, Case
from cases.deadlines import Deadline, Deadlines, calendar_for
from cases.department_notices import tell
from cases.departments import ATTENDING_ONLY_KINDS
from cases.errors import ForbiddenTransition, InvalidInput, NotFound
from cases.events import CaseAnswered, publish
from cases.models import Department
from cases.notifications import NotificationKind
from cases.services import services, zone
from cases.states import move
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, AssignmentState, Role, Status
from workdays.calendar import WorkCalendar

CASE_FIELDS = ("status", "mode", "due_date", "due_provisional", "due_reason", "ledger_state",
               "needs_review", "rework_count")
ASSIGNMENT_FIELDS = ("state", "due_date", "due_provisional", "extension_status",
                     "extension_due", "enterprise_informed", "overdue")
MAX_TEXT = 5000


# -- loading and checking -----------------------------------------------------------------


def load_case(session: Session, case_id: int) -> Case:
    """The case, row-locked so concurrent steps on it serialise (PostgreSQL)."""
    case = session.scalars(
        select(Case).where(Case.id == case_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if case is None:
        raise NotFound("诉求不存在")
    return case


def load_assignment(session: Session, assignment_id: int) -> Assignment:
    """The assignment, its case row-locked (:func:`load_case`)."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("交办记录不存在")
    load_case(session, assignment.case_id)
    return assignment


def deadlines_for(session: Session, calendar: WorkCalendar | None, tz: tzinfo | None
                  ) -> Deadlines:
    return Deadlines(calendar or calendar_for(session), zone(session, tz),
                     services(session).closes_at)


def required_text(value: str | None, field: str, message: str, limit: int = MAX_TEXT,
                  name: str | None = None) -> str:
    """Required text; ``message`` when blank, "<name>不能超过N字" when too long (``name``
    defaults to what ``message`` asks for: "请填写退单理由" → "退单理由")."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput({field: message})
    if len(text) > limit:
        subject = name or message.removeprefix("请填写")
        raise InvalidInput({field: f"{subject}不能超过{limit}字（现{len(text)}字）"})
    return text


def handling_departments(session: Session, ids: Sequence[int], field: str = "department_ids"
                         ) -> list[Department]:
    """The active units ``ids`` names, in order; attending bodies cannot handle a case."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise InvalidInput({field: "请选择承办单位"})
    found = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(unique)))}
    missing = [i for i in unique if i not in found or not found[i].active]
    if missing:
        raise InvalidInput({field: "承办单位不存在或已停用"})
    attending = [found[i].name for i in unique if found[i].kind in ATTENDING_ONLY_KINDS]
    if attending:
        raise InvalidInput({field: f"{'、'.join(attending)}为列席监督单位，不能作为承办单位"})
    return [found[i] for i in unique]


def require_active(assignment: Assignment, label: str) -> None:
    if assignment.state not in ACTIVE_ASSIGNMENT_STATES:
        raise ForbiddenTransition(f"该交办记录已结束，不能{label}")


# -- the case's units and deadlines ---------------------------------------------------------


def active(case: Case) -> list[Assignment]:
    return [a for a in case.assignments if a.state in ACTIVE_ASSIGNMENT_STATES]


def current_round(case: Case) -> list[Assignment]:
    """Assignments of the current handling round that still count (not returned/withdrawn)."""
    return [a for a in case.assignments if a.round == case.rework_count
            and a.state not in (AssignmentState.RETURNED, AssignmentState.WITHDRAWN)]


def sync_case_due(case: Case) -> None:
    """The case is due when its last department is due."""
    dated = [a for a in current_round(case) if a.due_date is not None]
    if not dated:
        return
    last = max(dated, key=lambda a: a.due_date or date.min)
    case.due_date = last.due_date
    case.due_provisional = any(a.due_provisional for a in dated)
    case.due_reason = last.due_reason


def set_due(case: Case, due: Deadline) -> None:
    case.due_date, case.due_provisional, case.due_reason = due.day, due.provisional, due.reason


def assign(session: Session, case: Case, department: Department, role: Role, due: Deadline,
           now: datetime) -> Assignment:
    assignment = Assignment(
        case=case, department=department, role=role, state=AssignmentState.PENDING,
        round=case.rework_count, assigned_at=now, due_date=due.day,
        due_provisional=due.provisional, due_reason=due.reason,
    )
    session.add(assignment)
    return assignment


def tell_all(session: Session, assignments: Sequence[Assignment], kind: NotificationKind,
             now: datetime) -> None:
    for assignment in assignments:
        tell(session, assignment, kind, now=now)


def note_running_miss(case: Case, today: date) -> None:
    """Before a running due date (with departments, or the leading group's decision date) is
    replaced, keep its miss if it passed: the sweep may not have run since."""
    if case.status in timeliness.RUNNING:
        timeliness.note_missed(case, today)


def withdraw_active(case: Case, today: date) -> list[int]:
    """Take the case off its units (a withdrawn assignment keeps a miss it already had)."""
    withdrawn = []
    for assignment in active(case):
        timeliness.note_missed(assignment, today)
        assignment.state = AssignmentState.WITHDRAWN
        withdrawn.append(assignment.department_id)
    return withdrawn


# -- recording ------------------------------------------------------------------------------


def case_event(session: Session, case: Case, action: str, actor: Actor, now: datetime,
               before: dict[str, Any], note: str = "", **extra: Any) -> None:
    """One audit event: what changed on the case since ``before``, and ``extra``."""
    old, new = changed(before, snapshot(case, CASE_FIELDS))
    record_event(session, case, actor=actor, action=action, now=now, before=old,
                 after={**new, **extra}, note=note)


def assignment_event(session: Session, assignment: Assignment, action: str, actor: Actor,
                     now: datetime, before: dict[str, Any], note: str = "", **extra: Any
                     ) -> None:
    """One audit event on the assignment's case: what changed on the assignment."""
    old, new = changed(before, snapshot(assignment, ASSIGNMENT_FIELDS))
    record_event(session, assignment.case, actor=actor, action=action, now=now,
                 before={"assignment_id": assignment.id, **old},
                 after={"assignment_id": assignment.id,
                        "department_id": assignment.department_id, **new, **extra},
                 note=note)


def mark_answered(session: Session, case: Case, deadlines: Deadlines, actor: Actor,
                  now: datetime, action: str) -> None:
    """The case is answered: ledger, the "answered" text, and :class:`CaseAnswered`."""
    move(case, action, Status.ANSWERED)
    case.answered_at = now
    case.answered_on = deadlines.local_date(now)
    case.returned_at = None
    ledger.note_answer(session, case, deadlines, actor=actor, now=now)
    sms.case_answered(session, case, now)
    publish(CaseAnswered(session, case, now))
