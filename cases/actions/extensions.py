"""延期申请: before its deadline a department asks for a date agreed with the enterprise; the
centre approves it (the agreed date becomes the due date) or refuses it."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy.orm import Session

from cases import ledger, timeliness
from cases.actions.common import (
    ASSIGNMENT_FIELDS,
    CASE_FIELDS,
    assignment_event,
    case_event,
    deadlines_for,
    load_assignment,
    require_active,
    required_text,
    sync_case_due,
)
from cases.actors import CENTRE, Actor, require_department, require_kind
from cases.audit import snapshot
from cases.case_models import Assignment
from cases.deadlines import Deadlines
from cases.department_notices import tell
from cases.errors import ForbiddenTransition, InvalidInput
from cases.notifications import NotificationKind
from cases.states import check
from cases.vocab import Extension


def check_request_extension(session: Session, assignment_id: int, *, new_due: date,
                            reason: str, agreed_with_enterprise: bool, actor: Actor,
                            now: datetime, tz: tzinfo | None = None) -> Assignment:
    """The assignment, if its department may ask for ``new_due``: before its deadline, a
    later date, agreed with the enterprise, with a reason; none already waiting."""
    assignment = load_assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "申请延期")
    check(assignment.case, "request_extension")
    require_active(assignment, "申请延期")
    if assignment.extension_status == Extension.REQUESTED:
        raise ForbiddenTransition("已有待审批的延期申请")
    if deadlines_for(session, None, tz).is_overdue(assignment.due_date, now):
        raise ForbiddenTransition("已超过办理期限，不能再申请延期")
    errors: dict[str, str] = {}
    if assignment.due_date is not None and new_due <= assignment.due_date:
        errors["new_due"] = "延期后的期限应晚于原办理期限"
    if not agreed_with_enterprise:
        errors["agreed_with_enterprise"] = "延期须先与企业约定办结时限"
    if not (reason or "").strip():
        errors["reason"] = "请填写延期理由"
    if errors:
        raise InvalidInput(errors)
    return assignment


def do_request_extension(session: Session, assignment_id: int, *, new_due: date, reason: str,
                         agreed_with_enterprise: bool, actor: Actor, now: datetime,
                         tz: tzinfo | None = None) -> Assignment:
    """延期申请: before its deadline a department asks for a deadline agreed with the enterprise."""
    assignment = check_request_extension(
        session, assignment_id, new_due=new_due, reason=reason,
        agreed_with_enterprise=agreed_with_enterprise, actor=actor, now=now, tz=tz)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.extension_status = Extension.REQUESTED
    assignment.extension_due = new_due
    assignment.extension_reason = reason.strip()
    assignment.extension_agreed_with_enterprise = True
    assignment.extension_requested_at = now
    assignment.extension_decided_at = None
    assignment.enterprise_informed = False
    assignment_event(session, assignment, "extension_requested", actor, now, before,
                     note=reason.strip())
    return assignment


def _check_decision(session: Session, assignment_id: int, actor: Actor) -> Assignment:
    require_kind(actor, CENTRE, "审批延期")
    assignment = load_assignment(session, assignment_id)
    check(assignment.case, "decide_extension")
    return assignment


def check_approve_extension(session: Session, assignment_id: int, *, actor: Actor
                            ) -> Assignment:
    """The assignment, if the centre may approve its waiting request."""
    assignment = _check_decision(session, assignment_id, actor)
    require_active(assignment, "审批延期")
    if assignment.extension_status != Extension.REQUESTED:
        raise ForbiddenTransition("没有待审批的延期申请")
    return assignment


def do_approve_extension(session: Session, assignment_id: int, *, enterprise_informed: bool,
                         actor: Actor, now: datetime) -> Assignment:
    """The centre approves: the agreed date becomes the due date; notes if the enterprise knows."""
    assignment = check_approve_extension(session, assignment_id, actor=actor)
    case = assignment.case
    before_case = snapshot(case, CASE_FIELDS)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assert assignment.extension_due is not None
    # Decided after the due date: the miss stays on record (按时办结率) whatever the new date.
    deadlines = deadlines_for(session, None, None)
    ledger.note_missed(assignment, deadlines, now)
    if case.status in timeliness.RUNNING:
        ledger.note_missed(case, deadlines, now)
    agreed = Deadlines.agreed(assignment.extension_due, assignment.extension_reason or "")
    assignment.extension_status = Extension.APPROVED
    assignment.extension_decided_at = now
    assignment.enterprise_informed = enterprise_informed
    assignment.due_date, assignment.due_provisional = agreed.day, agreed.provisional
    assignment.due_reason = agreed.reason
    assignment.overdue = False
    sync_case_due(case)
    assignment_event(session, assignment, "extension_approved", actor, now, before)
    tell(session, assignment, NotificationKind.EXT_APPROVED, now=now)
    case_event(session, case, "due_changed", actor, now, before_case)
    return assignment


def check_reject_extension(session: Session, assignment_id: int, *, reason: str, actor: Actor
                           ) -> tuple[Assignment, str]:
    """The assignment and the reason, if the centre may refuse its waiting request."""
    assignment = _check_decision(session, assignment_id, actor)
    if assignment.extension_status != Extension.REQUESTED:
        raise ForbiddenTransition("没有待审批的延期申请")
    return assignment, required_text(reason, "reason", "请填写不予延期的理由")


def do_reject_extension(session: Session, assignment_id: int, *, reason: str, actor: Actor,
                        now: datetime) -> Assignment:
    """The centre refuses the extension; the original deadline stands."""
    assignment, text = check_reject_extension(session, assignment_id, reason=reason,
                                              actor=actor)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.extension_status = Extension.REJECTED
    assignment.extension_decided_at = now
    assignment_event(session, assignment, "extension_rejected", actor, now, before, note=text)
    tell(session, assignment, NotificationKind.EXT_REJECTED, now=now, note=text)
    return assignment
