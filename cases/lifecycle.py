"""Everything that happens to a case after intake, one function per step of the notice.

Each function takes plain values, an :class:`~cases.actors.Actor` and ``now``; it checks the
actor's right and the state machine (:mod:`cases.states`) before changing anything, writes one
audit event per step, and leaves committing to the caller. Deadlines come from
:class:`~cases.deadlines.Deadlines`; pass ``calendar`` (and ``tz``) to use a specific calendar,
otherwise one is built with the database overrides.

Answer rule: a case is answered when no department of the current round is still handling it
and at least one has replied — for 流转办 that is the lead's reply, for 专班商办 and decided
escalations the reply of every (co-)handling department.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import ledger, sms, timeliness
from cases.actors import CENTRE, SUPERVISORS, Actor, require_department, require_kind
from cases.audit import changed, record_event, snapshot
from cases.case_models import Assignment, Case, Escalation, JointMeeting, Rating, Reply
from cases.deadlines import DECISION_WORKING_DAYS, Deadline, Deadlines, calendar_for
from cases.department_notices import tell
from cases.departments import ATTENDING_ONLY_KINDS
from cases.errors import ForbiddenTransition, InvalidInput, NotFound
from cases.events import CaseAnswered, RatingRecorded, publish
from cases.fields import (
    FieldErrors,
    category_errors,
    clean_contact_name,
    clean_contact_phone,
    clean_description,
)
from cases.models import Department, Enterprise
from cases.notifications import NotificationKind
from cases.services import services, zone
from cases.states import check, move
from cases.suggestions import mark_final_routing, store_suggestions
from cases.vocab import (
    ACTIVE_ASSIGNMENT_STATES,
    CLOSING_REPLY_KINDS,
    REPLY_KIND_LABELS,
    SATISFIED_MIN_SCORE,
    AssignmentState,
    Extension,
    Mode,
    ReplyKind,
    Role,
    Status,
)
from workdays.calendar import WorkCalendar

CASE_FIELDS = ("status", "mode", "due_date", "due_provisional", "due_reason", "ledger_state",
               "needs_review", "rework_count")
ASSIGNMENT_FIELDS = ("state", "due_date", "due_provisional", "extension_status",
                     "extension_due", "enterprise_informed", "overdue")
MAX_TEXT = 5000
RATING_VIA = ("callback", "operator")


# -- loading and small helpers ------------------------------------------------------------


def _case(session: Session, case_id: int) -> Case:
    """The case, row-locked so concurrent steps on it serialise (PostgreSQL)."""
    case = session.scalars(
        select(Case).where(Case.id == case_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if case is None:
        raise NotFound("诉求不存在")
    return case


def _assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("交办记录不存在")
    _case(session, assignment.case_id)
    return assignment


def _deadlines(session: Session, calendar: WorkCalendar | None, tz: tzinfo | None) -> Deadlines:
    return Deadlines(calendar or calendar_for(session), zone(session, tz),
                     services(session).closes_at)


def _text(value: str | None, field: str, message: str, limit: int = MAX_TEXT,
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


def _departments(session: Session, ids: Sequence[int], field: str = "department_ids"
                 ) -> list[Department]:
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


def _active(case: Case) -> list[Assignment]:
    return [a for a in case.assignments if a.state in ACTIVE_ASSIGNMENT_STATES]


def _current_round(case: Case) -> list[Assignment]:
    """Assignments of the current handling round that still count (not returned/withdrawn)."""
    return [a for a in case.assignments if a.round == case.rework_count
            and a.state not in (AssignmentState.RETURNED, AssignmentState.WITHDRAWN)]


def _sync_case_due(case: Case) -> None:
    """The case is due when its last department is due."""
    dated = [a for a in _current_round(case) if a.due_date is not None]
    if not dated:
        return
    last = max(dated, key=lambda a: a.due_date or date.min)
    case.due_date = last.due_date
    case.due_provisional = any(a.due_provisional for a in dated)
    case.due_reason = last.due_reason


def _set_due(case: Case, due: Deadline) -> None:
    case.due_date, case.due_provisional, case.due_reason = due.day, due.provisional, due.reason


def _assign(session: Session, case: Case, department: Department, role: Role, due: Deadline,
            now: datetime) -> Assignment:
    assignment = Assignment(
        case=case, department=department, role=role, state=AssignmentState.PENDING,
        round=case.rework_count, assigned_at=now, due_date=due.day,
        due_provisional=due.provisional, due_reason=due.reason,
    )
    session.add(assignment)
    return assignment


def _tell_all(session: Session, assignments: Sequence[Assignment], kind: NotificationKind,
              now: datetime) -> None:
    for assignment in assignments:
        tell(session, assignment, kind, now=now)


def _note_running_miss(case: Case, today: date) -> None:
    """Before a running due date (with departments, or the leading group's decision date) is
    replaced, keep its miss if it passed: the sweep may not have run since."""
    if case.status in timeliness.RUNNING:
        timeliness.note_missed(case, today)


def _withdraw_active(case: Case, today: date) -> list[int]:
    """Take the case off its units (a withdrawn assignment keeps a miss it already had)."""
    withdrawn = []
    for assignment in _active(case):
        timeliness.note_missed(assignment, today)
        assignment.state = AssignmentState.WITHDRAWN
        withdrawn.append(assignment.department_id)
    return withdrawn


def _event(session: Session, case: Case, action: str, actor: Actor, now: datetime,
           before: dict[str, Any], note: str = "", **extra: Any) -> None:
    old, new = changed(before, snapshot(case, CASE_FIELDS))
    record_event(session, case, actor=actor, action=action, now=now, before=old,
                 after={**new, **extra}, note=note)


def _mark_answered(session: Session, case: Case, deadlines: Deadlines, actor: Actor,
                   now: datetime, action: str) -> None:
    move(case, action, Status.ANSWERED)
    case.answered_at = now
    case.answered_on = deadlines.local_date(now)
    case.returned_at = None
    ledger.note_answer(session, case, deadlines, actor=actor, now=now)
    sms.case_answered(session, case, now)
    publish(CaseAnswered(session, case, now))


# -- the centre: triage -------------------------------------------------------------------


def answer_instantly(session: Session, case_id: int, *, text: str, actor: Actor, now: datetime,
                     calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Case:
    """即时办: the centre answers a simple, clear request at once (due the day received)."""
    require_kind(actor, CENTRE, "即时答复")
    case = _case(session, case_id)
    check(case, "answer_instantly")
    answer = _text(text, "text", "请填写答复内容")
    before = snapshot(case, CASE_FIELDS)
    case.mode = Mode.INSTANT
    case.needs_review = False
    session.add(Reply(case=case, kind=ReplyKind.ANSWER, text=answer, author=actor.name[:100],
                      replied_at=now))
    _mark_answered(session, case, _deadlines(session, calendar, tz), actor, now,
                   "answer_instantly")
    _event(session, case, "answered_instantly", actor, now, before, reply=answer)
    return case


def resolve_self_service(session: Session, case_id: int, *, text: str, actor: Actor,
                         now: datetime, calendar: WorkCalendar | None = None,
                         tz: tzinfo | None = None) -> Case:
    """即时办 by the phone menu: the caller heard the answer and pressed "solved".

    Closed and settled at once; no follow-up call and no SMS — the caller rated it already.
    """
    case = _case(session, case_id)
    check(case, "resolve_self_service")
    answer = _text(text, "text", "请填写答复内容")
    before = snapshot(case, CASE_FIELDS)
    deadlines = _deadlines(session, calendar, tz)
    case.mode = Mode.INSTANT
    session.add(Reply(case=case, text=answer, author=actor.name[:100], replied_at=now))
    move(case, "resolve_self_service", Status.CLOSED)
    case.answered_at = now
    case.answered_on = deadlines.local_date(now)
    timeliness.note_answer(case, now, deadlines.tz)
    _event(session, case, "resolved_self_service", actor, now, before, reply=answer)
    ledger.settle(session, case, actor=actor, now=now)
    return case


def route_to_department(session: Session, case_id: int, *, department_id: int, actor: Actor,
                        now: datetime, note: str = "", calendar: WorkCalendar | None = None,
                        tz: tzinfo | None = None) -> Case:
    """流转办: one department handles it and answers within 2 working days of receiving it."""
    require_kind(actor, CENTRE, "流转交办")
    case = _case(session, case_id)
    check(case, "route")
    (department,) = _departments(session, [department_id], "department_id")
    before = snapshot(case, CASE_FIELDS)
    _route_to_lead(session, case, department, "route", now, calendar, tz)
    _event(session, case, "routed", actor, now, before, note=note, departments=[department.name])
    return case


def _route_to_lead(session: Session, case: Case, department: Department, transition: str,
                   now: datetime, calendar: WorkCalendar | None, tz: tzinfo | None,
                   note: str = "") -> None:
    """流转办: one lead department, due 2 working days after receipt by the department; it is
    told (a unit that returned the case this round hears that its 退单 was not accepted)."""
    returned_it = any(a.department_id == department.id and a.round == case.rework_count
                      and a.state == AssignmentState.RETURNED for a in case.assignments)
    due = _deadlines(session, calendar, tz).routed(now)
    assignment = _assign(session, case, department, Role.LEAD, due, now)
    case.mode = Mode.ROUTED
    case.needs_review = False
    case.returned_at = None
    _set_due(case, due)
    move(case, transition, Status.HANDLING)
    session.flush()
    mark_final_routing(session, case.id, {department.id})
    tell(session, assignment,
         NotificationKind.RETURN_REFUSED if returned_it else NotificationKind.ASSIGNED,
         now=now, note=note)


def reroute(session: Session, case_id: int, *, department_id: int, actor: Actor, now: datetime,
            reason: str = "", calendar: WorkCalendar | None = None, tz: tzinfo | None = None
            ) -> Case:
    """Route again to one department (after a 退单, or to correct a routing); 2 working days."""
    require_kind(actor, CENTRE, "重新交办")
    case = _case(session, case_id)
    check(case, "reroute")
    (department,) = _departments(session, [department_id], "department_id")
    before = snapshot(case, CASE_FIELDS)
    today = _deadlines(session, calendar, tz).local_date(now)
    _note_running_miss(case, today)
    withdrawn = _withdraw_active(case, today)
    _route_to_lead(session, case, department, "reroute", now, calendar, tz, note=reason)
    _event(session, case, "rerouted", actor, now, before, note=reason,
           departments=[department.name], withdrawn_department_ids=withdrawn)
    return case


# -- 专班商办 joint handling ----------------------------------------------------------------


def start_joint_handling(session: Session, case_id: int, *, department_ids: Sequence[int],
                         meeting_at: datetime, actor: Actor, now: datetime,
                         lead_department_id: int | None = None,
                         calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Case:
    """专班商办: several co-handling units and a joint meeting led by the task force; only
    task-force users (企服专班: supervisors, administrators) start it.

    ``lead_department_id`` is the lead unit (牵头), one of ``department_ids``; without it the
    first one leads. Until the meeting is held the deadline counts from the planned meeting
    day; :func:`record_meeting_held` recounts it from the real day.
    """
    require_kind(actor, SUPERVISORS, "启动专班商办")
    case = _case(session, case_id)
    check(case, "start_joint")
    ids = list(department_ids)
    if lead_department_id is not None:
        if lead_department_id not in ids:
            raise InvalidInput({"lead_department_id": "牵头单位须为共同承办单位之一"})
        ids = [lead_department_id, *[i for i in ids if i != lead_department_id]]
    departments = _departments(session, ids)
    if len(departments) < 2:
        raise InvalidInput({"department_ids": "专班商办至少需要两个共同承办单位"})
    deadlines = _deadlines(session, calendar, tz)
    if meeting_at.tzinfo is None or deadlines.local_date(meeting_at) < deadlines.local_date(now):
        raise InvalidInput({"meeting_at": "商办会时间不能早于今天"})
    before = snapshot(case, CASE_FIELDS)
    due = deadlines.joint(deadlines.local_date(meeting_at))
    assigned = [_assign(session, case, department, Role.LEAD if index == 0 else Role.CO,
                        due, now) for index, department in enumerate(departments)]
    session.add(JointMeeting(case_id=case.id, scheduled_at=meeting_at, attendees=[],
                             convened_by=actor.name[:100]))
    case.mode = Mode.JOINT
    case.needs_review = False
    case.returned_at = None
    _set_due(case, due)
    move(case, "start_joint", Status.HANDLING)
    session.flush()
    mark_final_routing(session, case.id, {d.id for d in departments})
    _tell_all(session, assigned, NotificationKind.ASSIGNED, now)
    _event(session, case, "joint_started", actor, now, before,
           departments=[d.name for d in departments], meeting_at=meeting_at.isoformat())
    return case


def record_meeting_held(session: Session, case_id: int, *, held_at: datetime,
                        attendees: Sequence[str], minutes: str, actor: Actor, now: datetime,
                        calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Case:
    """The joint meeting took place: due = meeting day + 5 working days for every unit."""
    require_kind(actor, SUPERVISORS, "登记商办会")
    case = _case(session, case_id)
    check(case, "record_meeting")
    meeting = case.meetings[-1] if case.meetings else None
    if case.mode != Mode.JOINT or meeting is None:
        raise ForbiddenTransition("该诉求不是专班商办，不能登记商办会")
    if meeting.held_at is not None:
        raise ForbiddenTransition("商办会已登记")
    if held_at.tzinfo is None or held_at > now:
        raise InvalidInput({"held_at": "商办会时间不能晚于当前时间"})
    names = [a.strip() for a in attendees if a and a.strip()]
    if not names:
        raise InvalidInput({"attendees": "请填写参会单位"})
    deadlines = _deadlines(session, calendar, tz)
    before = snapshot(case, CASE_FIELDS)
    meeting.held_at = held_at
    meeting.attendees = names
    meeting.minutes = (minutes or "").strip() or None
    due = deadlines.joint(deadlines.local_date(held_at))
    for assignment in _active(case):
        # An agreed deadline (approved extension) stays; the rule's date follows the meeting.
        if assignment.extension_status != Extension.APPROVED:
            assignment.due_date = due.day
            assignment.due_provisional = due.provisional
            assignment.due_reason = due.reason
    _sync_case_due(case)
    _event(session, case, "meeting_held", actor, now, before, held_at=held_at.isoformat(),
           attendees=names)
    return case


# -- 研判上报 escalation ----------------------------------------------------------------------


def escalate(session: Session, case_id: int, *, analysis: str, actor: Actor, now: datetime,
             decision_days: int | None = None, calendar: WorkCalendar | None = None,
             tz: tzinfo | None = None) -> Case:
    """The task force's analysis sends a major or complex case to the leading group, whose
    decision is due within ``decision_days`` working days (``ESCALATION_DECISION_DAYS``);
    the reminders chase it like a department's deadline."""
    require_kind(actor, SUPERVISORS, "研判上报")
    case = _case(session, case_id)
    check(case, "escalate")
    text = _text(analysis, "analysis", "请填写研判意见")
    before = snapshot(case, CASE_FIELDS)
    today = _deadlines(session, calendar, tz).local_date(now)
    _note_running_miss(case, today)
    withdrawn = _withdraw_active(case, today)
    days = decision_days if decision_days is not None else DECISION_WORKING_DAYS
    if days < 1:
        raise InvalidInput({"decision_days": "决定时限至少为1个工作日"})
    due = _deadlines(session, calendar, tz).decision(now, days)
    session.add(Escalation(case_id=case.id, analysis=text, escalated_at=now,
                           escalated_by=actor.name[:100], decision_due=due.day))
    case.mode = Mode.ESCALATED
    case.needs_review = False
    case.returned_at = None
    # Until the leading group sets the handling deadline, the case waits for its decision.
    _set_due(case, due)
    move(case, "escalate", Status.ESCALATED)
    _event(session, case, "escalated", actor, now, before, analysis=text,
           withdrawn_department_ids=withdrawn)
    return case


def record_leading_group_decision(session: Session, case_id: int, *, decision: str,
                                  deadline: date, department_ids: Sequence[int], actor: Actor,
                                  now: datetime, decided_by: str = "",
                                  decided_at: datetime | None = None,
                                  tz: tzinfo | None = None) -> Case:
    """The group leader's plan: who decided and when, the plan, the departments that carry it
    out (the first leads) and the deadline it sets."""
    require_kind(actor, SUPERVISORS, "登记领导小组决定")
    case = _case(session, case_id)
    check(case, "record_decision")
    text = _text(decision, "decision", "请填写处置方案")
    departments = _departments(session, department_ids)
    deadlines = Deadlines(calendar_for(session), zone(session, tz),
                          services(session).closes_at)
    if deadline < deadlines.local_date(now):
        raise InvalidInput({"deadline": "办结时限不能早于今天"})
    before = snapshot(case, CASE_FIELDS)
    escalation = case.escalations[-1]
    if decided_at is not None and (decided_at.tzinfo is None or decided_at > now):
        raise InvalidInput({"decided_at": "决定时间不能晚于当前时间"})
    escalation.decision, escalation.decision_deadline = text, deadline
    escalation.decided_at = decided_at or now
    escalation.decided_by = (decided_by or "").strip()[:100] or None
    _note_running_miss(case, deadlines.local_date(now))  # decided after the decision date
    due = deadlines.decided(deadline)
    assigned = [_assign(session, case, department, Role.LEAD if index == 0 else Role.CO,
                        due, now) for index, department in enumerate(departments)]
    _set_due(case, due)
    move(case, "record_decision", Status.HANDLING)
    session.flush()
    mark_final_routing(session, case.id, {d.id for d in departments})
    _tell_all(session, assigned, NotificationKind.ASSIGNED, now)
    _event(session, case, "decision_recorded", actor, now, before, decision=text,
           departments=[d.name for d in departments], decided_by=escalation.decided_by,
           decided_at=escalation.decided_at.isoformat())
    return case


# -- departments ------------------------------------------------------------------------------


def _assignment_event(session: Session, assignment: Assignment, action: str, actor: Actor,
                      now: datetime, before: dict[str, Any], note: str = "", **extra: Any
                      ) -> None:
    old, new = changed(before, snapshot(assignment, ASSIGNMENT_FIELDS))
    record_event(session, assignment.case, actor=actor, action=action, now=now,
                 before={"assignment_id": assignment.id, **old},
                 after={"assignment_id": assignment.id,
                        "department_id": assignment.department_id, **new, **extra},
                 note=note)


def _require_active(assignment: Assignment, label: str) -> None:
    if assignment.state not in ACTIVE_ASSIGNMENT_STATES:
        raise ForbiddenTransition(f"该交办记录已结束，不能{label}")


def accept_assignment(session: Session, assignment_id: int, *, actor: Actor, now: datetime
                      ) -> Assignment:
    """签收: the department confirms it received the routed case."""
    assignment = _assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "签收")
    check(assignment.case, "accept")
    if assignment.state != AssignmentState.PENDING:
        raise ForbiddenTransition("该交办记录不是待签收状态")
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.state = AssignmentState.ACCEPTED
    assignment.accepted_at = now
    _assignment_event(session, assignment, "assignment_accepted", actor, now, before)
    return assignment


def return_assignment(session: Session, assignment_id: int, *, reason: str, actor: Actor,
                      now: datetime, calendar: WorkCalendar | None = None,
                      tz: tzinfo | None = None) -> Assignment:
    """退单: a wrongly routed case goes back to the centre's queue (if no one else handles it).

    When no department of the round is left: if some already replied the case is answered
    with their replies, otherwise it returns to the centre's queue, due for re-routing today.
    """
    assignment = _assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "退单")
    case = assignment.case
    check(case, "return")
    _require_active(assignment, "退单")
    text = _text(reason, "reason", "请填写退单理由")
    deadlines = _deadlines(session, calendar, tz)
    before_case = snapshot(case, CASE_FIELDS)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    today = deadlines.local_date(now)
    timeliness.note_missed(assignment, today)  # returned after its date: the miss stays
    assignment.state = AssignmentState.RETURNED
    assignment.returned_at = now
    assignment.return_reason = text
    _assignment_event(session, assignment, "assignment_returned", actor, now, before, note=text)
    if not _active(case):
        if any(a.state == AssignmentState.REPLIED for a in _current_round(case)):
            _mark_answered(session, case, deadlines, actor, now, "return")
            _event(session, case, "answered", actor, now, before_case)
        else:
            _note_running_miss(case, today)
            move(case, "return", Status.RECEIVED)
            case.returned_at = now
            _set_due(case, deadlines.requeued(now))
            _event(session, case, "back_to_queue", actor, now, before_case, note=text)
    return assignment


def request_extension(session: Session, assignment_id: int, *, new_due: date, reason: str,
                      agreed_with_enterprise: bool, actor: Actor, now: datetime,
                      tz: tzinfo | None = None) -> Assignment:
    """延期申请: before its deadline a department asks for a deadline agreed with the enterprise."""
    assignment = _assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "申请延期")
    check(assignment.case, "request_extension")
    _require_active(assignment, "申请延期")
    if assignment.extension_status == Extension.REQUESTED:
        raise ForbiddenTransition("已有待审批的延期申请")
    deadlines = Deadlines(calendar_for(session), zone(session, tz),
                          services(session).closes_at)
    if deadlines.is_overdue(assignment.due_date, now):
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
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.extension_status = Extension.REQUESTED
    assignment.extension_due = new_due
    assignment.extension_reason = reason.strip()
    assignment.extension_agreed_with_enterprise = True
    assignment.extension_requested_at = now
    assignment.extension_decided_at = None
    assignment.enterprise_informed = False
    _assignment_event(session, assignment, "extension_requested", actor, now, before,
                      note=reason.strip())
    return assignment


def approve_extension(session: Session, assignment_id: int, *, enterprise_informed: bool,
                      actor: Actor, now: datetime) -> Assignment:
    """The centre approves: the agreed date becomes the due date; notes if the enterprise knows."""
    require_kind(actor, CENTRE, "审批延期")
    assignment = _assignment(session, assignment_id)
    case = assignment.case
    check(case, "decide_extension")
    _require_active(assignment, "审批延期")
    if assignment.extension_status != Extension.REQUESTED:
        raise ForbiddenTransition("没有待审批的延期申请")
    before_case = snapshot(case, CASE_FIELDS)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assert assignment.extension_due is not None
    # Decided after the due date: the miss stays on record (按时办结率) whatever the new date.
    deadlines = Deadlines(calendar_for(session), zone(session),
                          services(session).closes_at)
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
    _sync_case_due(case)
    _assignment_event(session, assignment, "extension_approved", actor, now, before)
    tell(session, assignment, NotificationKind.EXT_APPROVED, now=now)
    _event(session, case, "due_changed", actor, now, before_case)
    return assignment


def reject_extension(session: Session, assignment_id: int, *, reason: str, actor: Actor,
                     now: datetime) -> Assignment:
    """The centre refuses the extension; the original deadline stands."""
    require_kind(actor, CENTRE, "审批延期")
    assignment = _assignment(session, assignment_id)
    check(assignment.case, "decide_extension")
    if assignment.extension_status != Extension.REQUESTED:
        raise ForbiddenTransition("没有待审批的延期申请")
    text = _text(reason, "reason", "请填写不予延期的理由")
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.extension_status = Extension.REJECTED
    assignment.extension_decided_at = now
    _assignment_event(session, assignment, "extension_rejected", actor, now, before, note=text)
    tell(session, assignment, NotificationKind.EXT_REJECTED, now=now, note=text)
    return assignment


def reply(session: Session, assignment_id: int, *, text: str, actor: Actor, now: datetime,
          kind: str = ReplyKind.ANSWER, policy_basis: str = "",
          calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Assignment:
    """答复 or 解释说明: closes the department's assignment; the case is answered when no
    department is still handling it. A 解释说明 (the request cannot be met under policy)
    must cite the policy it relies on. 进度反馈 goes through :func:`report_progress`.
    """
    if kind not in CLOSING_REPLY_KINDS:
        raise InvalidInput({"kind": "答复类型应为 答复 或 解释说明"})
    assignment = _assignment(session, assignment_id)
    require_department(actor, assignment.department_id, REPLY_KIND_LABELS[kind])
    case = assignment.case
    check(case, "reply")
    _require_active(assignment, REPLY_KIND_LABELS[kind])
    answer = _text(text, "text", f"请填写{REPLY_KIND_LABELS[kind]}内容")
    basis = (_text(policy_basis, "policy_basis", "解释说明须注明所依据的政策", limit=500,
                   name="依据政策")
             if kind == ReplyKind.EXPLANATION else None)
    before_case = snapshot(case, CASE_FIELDS)
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    ledger.note_missed(assignment, _deadlines(session, calendar, tz), now)
    assignment.state = AssignmentState.REPLIED
    assignment.replied_at = now
    assignment.accepted_at = assignment.accepted_at or now
    session.add(Reply(case=case, assignment_id=assignment.id, kind=kind,
                      department_id=assignment.department_id, text=answer, policy_basis=basis,
                      author=actor.name[:100], replied_at=now))
    extra: dict[str, Any] = {"reply": answer, "kind": kind}
    if basis:
        extra["policy_basis"] = basis
    _assignment_event(session, assignment,
                      "replied" if kind == ReplyKind.ANSWER else "explained", actor, now,
                      before, **extra)
    if not _active(case):
        _mark_answered(session, case, _deadlines(session, calendar, tz), actor, now, "reply")
        _event(session, case, "answered", actor, now, before_case)
    return assignment


def report_progress(session: Session, assignment_id: int, *, text: str, actor: Actor,
                    now: datetime) -> Reply:
    """进度反馈: interim progress for the enterprise; the assignment stays open and its
    deadline is unchanged. The enterprise is texted the progress."""
    assignment = _assignment(session, assignment_id)
    require_department(actor, assignment.department_id, "进度反馈")
    case = assignment.case
    check(case, "reply")
    _require_active(assignment, "进度反馈")
    note = _text(text, "text", "请填写办理进度")
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.accepted_at = assignment.accepted_at or now
    if assignment.state == AssignmentState.PENDING:
        assignment.state = AssignmentState.ACCEPTED  # reporting progress means it was received
    progress = Reply(case=case, assignment_id=assignment.id, kind=ReplyKind.PROGRESS,
                     department_id=assignment.department_id, text=note,
                     author=actor.name[:100], replied_at=now)
    session.add(progress)
    session.flush()
    _assignment_event(session, assignment, "progress_reported", actor, now, before,
                      reply=note, kind=ReplyKind.PROGRESS)
    sms.progress_reported(session, case, progress, now)
    return progress


# -- follow-up and rating ---------------------------------------------------------------------


def record_rating(session: Session, case_id: int, *, score: int, comment: str = "",
                  via: str, call_id: int | None = None, actor: Actor, now: datetime,
                  calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Case:
    """回访 result. 3–5 closes the case and settles the ledger (a hanging case too, now that it
    is answered and the enterprise is satisfied); 1–2 (差评) hangs it and starts rework (重办).

    Rework: the departments that answered get the case again (new assignments, due 2 working
    days later for 流转办, 5 for 专班商办 and escalated cases); an instant answer goes back to
    the centre's queue, due today.
    """
    require_kind(actor, CENTRE | {"system"}, "满意度评价")
    case = _case(session, case_id)
    check(case, "rate")
    errors: dict[str, str] = {}
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        errors["score"] = "评价应为1至5分"
    if via not in RATING_VIA:
        errors["via"] = "评价方式应为 callback（自动回访）或 operator（人工回访）"
    if errors:
        raise InvalidInput(errors)
    before = snapshot(case, CASE_FIELDS)
    session.add(Rating(case_id=case.id, score=score, comment=(comment or "").strip(), via=via,
                       call_id=call_id, rated_at=now, rated_by=actor.name[:100],
                       round=case.rework_count))
    publish(RatingRecorded(session, case, score=score, comment=comment or "", via=via, now=now))
    if score >= SATISFIED_MIN_SCORE:
        move(case, "rate", Status.CLOSED)
        ledger.settle(session, case, actor=actor, now=now)
        _event(session, case, "rated", actor, now, before, score=score)
        return case
    _rework(session, case, _deadlines(session, calendar, tz), actor, now)
    _event(session, case, "rework", actor, now, before, score=score)
    return case


def close_unrated(session: Session, case_id: int, *, reason: str, actor: Actor,
                  now: datetime) -> Case:
    """回访未果: the enterprise could not be reached for a rating; the case closes as 未评价
    and the ledger settles (a hanging case too: its answer stands, only the rating is missing).
    """
    require_kind(actor, CENTRE | {"system"}, "登记回访未果")
    case = _case(session, case_id)
    check(case, "close_unrated")
    text = _text(reason, "reason", "请填写回访未果的原因", limit=200)
    before = snapshot(case, CASE_FIELDS)
    case.unrated_reason = text
    move(case, "close_unrated", Status.CLOSED)
    ledger.settle(session, case, actor=actor, now=now)
    _event(session, case, "closed_unrated", actor, now, before, note=text)
    return case


def _rework(session: Session, case: Case, deadlines: Deadlines, actor: Actor, now: datetime
            ) -> None:
    ledger.hang(session, case, actor=actor, now=now, reason="企业评价不满意，重办")
    replied = [a for a in _current_round(case) if a.state == AssignmentState.REPLIED]
    case.rework_count += 1
    case.answered_at = None
    case.answered_on = None
    if case.mode == Mode.INSTANT or not replied:
        move(case, "rate", Status.RECEIVED)
        _set_due(case, deadlines.same_day(now))
        return
    due = deadlines.rework(now, case.mode)
    departments = {d.id: d for d in session.scalars(
        select(Department).where(Department.id.in_([a.department_id for a in replied])))}
    assigned = [_assign(session, case, departments[a.department_id], Role(a.role), due, now)
                for a in replied]
    _set_due(case, due)
    move(case, "rate", Status.HANDLING)
    session.flush()
    _tell_all(session, assigned, NotificationKind.REWORK, now)


# -- corrections --------------------------------------------------------------------------------


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
DETAIL_FIELDS = ("description", "category", "subcategory", "enterprise_id", "contact_name",
                 "contact_phone")


def update_details(session: Session, case_id: int, *, actor: Actor, now: datetime,
                   description: Any = UNSET, category: Any = UNSET, subcategory: Any = UNSET,
                   enterprise_id: Any = UNSET, contact_name: Any = UNSET,
                   contact_phone: Any = UNSET) -> Case:
    """An operator reviews (审核) or corrects a case; clears the 待审核 mark.

    Only the arguments given change; a new category without a subcategory clears the old
    subcategory. A changed description (e.g. a corrected transcript) recomputes the routing
    suggestions. Nothing changes if any value is invalid.
    """
    require_kind(actor, CENTRE, "修改诉求信息")
    case = _case(session, case_id)
    check(case, "update_details")
    before = snapshot(case, (*DETAIL_FIELDS, "needs_review"))
    updates: dict[str, Any] = {}
    errors = FieldErrors()
    if description is not UNSET:
        updates["description"] = errors.clean(lambda: clean_description(description))
    if category is not UNSET or subcategory is not UNSET:
        new_category = case.category if category is UNSET else category
        if subcategory is UNSET:
            new_sub = None if category is not UNSET else case.subcategory
        else:
            new_sub = subcategory
        errors.add(category_errors(new_category, new_sub))
        updates["category"], updates["subcategory"] = new_category, new_sub
    if enterprise_id is not UNSET:
        if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
            errors.add({"enterprise_id": "企业不存在"})
        updates["enterprise_id"] = enterprise_id
    if contact_name is not UNSET:
        updates["contact_name"] = errors.clean(lambda: clean_contact_name(contact_name))
    if contact_phone is not UNSET:
        updates["contact_phone"] = errors.clean(lambda: clean_contact_phone(contact_phone))
    errors.raise_any()
    for name, value in updates.items():
        setattr(case, name, value)
    case.needs_review = False
    old, new = changed(before, snapshot(case, (*DETAIL_FIELDS, "needs_review")))
    record_event(session, case, actor=actor, action="details_updated", now=now, before=old,
                 after=new)
    if "description" in new:
        store_suggestions(session, case, case.description, source="description", now=now)
    return case
