"""What a department does with the case it was given: 签收, 退单, 答复 / 解释说明 and 进度反馈."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from cases import ledger, sms, timeliness
from cases.actions.common import (
    ASSIGNMENT_FIELDS,
    CASE_FIELDS,
    active,
    assignment_event,
    case_event,
    current_round,
    deadlines_for,
    load_assignment,
    mark_answered,
    note_running_miss,
    require_active,
    required_text,
    set_due,
)
from cases.actors import Actor, require_department
from cases.audit import snapshot
from cases.case_models import Assignment, Reply
from cases.errors import ForbiddenTransition, InvalidInput
from cases.states import check, move
from cases.vocab import CLOSING_REPLY_KINDS, REPLY_KIND_LABELS, AssignmentState, ReplyKind, Status
from workdays.calendar import WorkCalendar

# -- 签收 ---------------------------------------------------------------------------------------


def check_accept_assignment(session: Session, assignment_id: int, *, actor: Actor
                            ) -> Assignment:
    """The assignment, if its department may accept it (it waits to be accepted)."""
    assignment = load_assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "签收")
    check(assignment.case, "accept")
    if assignment.state != AssignmentState.PENDING:
        raise ForbiddenTransition("该交办记录不是待签收状态")
    return assignment


def do_accept_assignment(session: Session, assignment_id: int, *, actor: Actor, now: datetime
                         ) -> Assignment:
    """签收: the department confirms it received the routed case."""
    assignment = check_accept_assignment(session, assignment_id, actor=actor)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.state = AssignmentState.ACCEPTED
    assignment.accepted_at = now
    assignment_event(session, assignment, "assignment_accepted", actor, now, before)
    return assignment


# -- 退单 ---------------------------------------------------------------------------------------


def check_return_assignment(session: Session, assignment_id: int, *, reason: str, actor: Actor
                            ) -> tuple[Assignment, str]:
    """The assignment and the reason, if its department may still return it."""
    assignment = load_assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "退单")
    check(assignment.case, "return")
    require_active(assignment, "退单")
    return assignment, required_text(reason, "reason", "请填写退单理由")


def do_return_assignment(session: Session, assignment_id: int, *, reason: str, actor: Actor,
                         now: datetime, calendar: WorkCalendar | None = None,
                         tz: tzinfo | None = None) -> Assignment:
    """退单: a wrongly routed case goes back to the centre's queue (if no one else handles it).

    When no department of the round is left: if some already replied the case is answered
    with their replies, otherwise it returns to the centre's queue, due for re-routing today.
    """
    assignment, text = check_return_assignment(session, assignment_id, reason=reason,
                                               actor=actor)
    case = assignment.case
    deadlines = deadlines_for(session, calendar, tz)
    before_case = snapshot(case, CASE_FIELDS)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    today = deadlines.local_date(now)
    timeliness.note_missed(assignment, today)  # returned after its date: the miss stays
    assignment.state = AssignmentState.RETURNED
    assignment.returned_at = now
    assignment.return_reason = text
    assignment_event(session, assignment, "assignment_returned", actor, now, before, note=text)
    if not active(case):
        if any(a.state == AssignmentState.REPLIED for a in current_round(case)):
            mark_answered(session, case, deadlines, actor, now, "return")
            case_event(session, case, "answered", actor, now, before_case)
        else:
            note_running_miss(case, today)
            move(case, "return", Status.RECEIVED)
            case.returned_at = now
            set_due(case, deadlines.requeued(now))
            case_event(session, case, "back_to_queue", actor, now, before_case, note=text)
    return assignment


# -- 答复 / 解释说明 ----------------------------------------------------------------------------


def check_reply(session: Session, assignment_id: int, *, text: str, actor: Actor,
                kind: str = ReplyKind.ANSWER, policy_basis: str = ""
                ) -> tuple[Assignment, str, str | None]:
    """The assignment, the answer and (for a 解释说明) the policy relied on, if its department
    may still reply."""
    if kind not in CLOSING_REPLY_KINDS:
        raise InvalidInput({"kind": "答复类型应为 答复 或 解释说明"})
    assignment = load_assignment(session, assignment_id)
    require_department(actor, assignment.department_id, REPLY_KIND_LABELS[kind])
    check(assignment.case, "reply")
    require_active(assignment, REPLY_KIND_LABELS[kind])
    answer = required_text(text, "text", f"请填写{REPLY_KIND_LABELS[kind]}内容")
    basis = (required_text(policy_basis, "policy_basis", "解释说明须注明所依据的政策",
                           limit=500, name="依据政策")
             if kind == ReplyKind.EXPLANATION else None)
    return assignment, answer, basis


def do_reply(session: Session, assignment_id: int, *, text: str, actor: Actor, now: datetime,
             kind: str = ReplyKind.ANSWER, policy_basis: str = "",
             calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Assignment:
    """答复 or 解释说明: closes the department's assignment; the case is answered when no
    department is still handling it. A 解释说明 (the request cannot be met under policy)
    must cite the policy it relies on. 进度反馈 goes through :func:`do_report_progress`.
    """
    assignment, answer, basis = check_reply(session, assignment_id, text=text, actor=actor,
                                            kind=kind, policy_basis=policy_basis)
    case = assignment.case
    before_case = snapshot(case, CASE_FIELDS)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    ledger.note_missed(assignment, deadlines_for(session, calendar, tz), now)
    assignment.state = AssignmentState.REPLIED
    assignment.replied_at = now
    assignment.accepted_at = assignment.accepted_at or now
    session.add(Reply(case=case, assignment_id=assignment.id, kind=kind,
                      department_id=assignment.department_id, text=answer, policy_basis=basis,
                      author=actor.name[:100], replied_at=now))
    extra: dict[str, Any] = {"reply": answer, "kind": kind}
    if basis:
        extra["policy_basis"] = basis
    assignment_event(session, assignment,
                     "replied" if kind == ReplyKind.ANSWER else "explained", actor, now,
                     before, **extra)
    if not active(case):
        mark_answered(session, case, deadlines_for(session, calendar, tz), actor, now, "reply")
        case_event(session, case, "answered", actor, now, before_case)
    return assignment


# -- 进度反馈 -----------------------------------------------------------------------------------


def check_report_progress(session: Session, assignment_id: int, *, text: str, actor: Actor
                          ) -> tuple[Assignment, str]:
    """The assignment and the progress, if its department may still report on it."""
    assignment = load_assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "进度反馈")
    check(assignment.case, "reply")
    require_active(assignment, "进度反馈")
    return assignment, required_text(text, "text", "请填写办理进度")


def do_report_progress(session: Session, assignment_id: int, *, text: str, actor: Actor,
                       now: datetime) -> Reply:
    """进度反馈: interim progress for the enterprise; the assignment stays open and its
    deadline is unchanged. The enterprise is texted the progress."""
    assignment, note = check_report_progress(session, assignment_id, text=text, actor=actor)
    case = assignment.case
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.accepted_at = assignment.accepted_at or now
    if assignment.state == AssignmentState.PENDING:
        assignment.state = AssignmentState.ACCEPTED  # reporting progress means it was received
    progress = Reply(case=case, assignment_id=assignment.id, kind=ReplyKind.PROGRESS,
                     department_id=assignment.department_id, text=note,
                     author=actor.name[:100], replied_at=now)
    session.add(progress)
    session.flush()
    assignment_event(session, assignment, "progress_reported", actor, now, before,
                     reply=note, kind=ReplyKind.PROGRESS)
    sms.progress_reported(session, case, progress, now)
    return progress
