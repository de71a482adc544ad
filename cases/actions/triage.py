"""The centre's triage: 即时办 (the centre answers), the phone menu's self-service answer, 流转办
(one lead department) and routing again."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from cases import ledger, timeliness
from cases.actions.common import (
    CASE_FIELDS,
    assign,
    case_event,
    deadlines_for,
    handling_departments,
    load_case,
    mark_answered,
    note_running_miss,
    required_text,
    set_due,
    withdraw_active,
)
from cases.actors import CENTRE, Actor, require_kind
from cases.audit import snapshot
from cases.case_models import Case, Reply
from cases.department_notices import tell
from cases.models import Department
from cases.notifications import NotificationKind
from cases.states import check, move
from cases.suggestions import mark_final_routing
from cases.vocab import AssignmentState, Mode, ReplyKind, Role, Status
from workdays.calendar import WorkCalendar

# -- 即时办 --------------------------------------------------------------------------------------


def check_answer_instantly(session: Session, case_id: int, *, text: str, actor: Actor
                           ) -> tuple[Case, str]:
    """The case and the answer, if the centre may answer it at once."""
    require_kind(actor, CENTRE, "即时答复")
    case = load_case(session, case_id)
    check(case, "answer_instantly")
    return case, required_text(text, "text", "请填写答复内容")


def do_answer_instantly(session: Session, case_id: int, *, text: str, actor: Actor,
                        now: datetime, calendar: WorkCalendar | None = None,
                        tz: tzinfo | None = None) -> Case:
    """即时办: the centre answers a simple, clear request at once (due the day received)."""
    case, answer = check_answer_instantly(session, case_id, text=text, actor=actor)
    before = snapshot(case, CASE_FIELDS)
    case.mode = Mode.INSTANT
    case.needs_review = False
    session.add(Reply(case=case, kind=ReplyKind.ANSWER, text=answer, author=actor.name[:100],
                      replied_at=now))
    mark_answered(session, case, deadlines_for(session, calendar, tz), actor, now,
                  "answer_instantly")
    case_event(session, case, "answered_instantly", actor, now, before, reply=answer)
    return case


def check_resolve_self_service(session: Session, case_id: int, *, text: str
                               ) -> tuple[Case, str]:
    """The case and the answer the caller heard, if the case can still be resolved so."""
    case = load_case(session, case_id)
    check(case, "resolve_self_service")
    return case, required_text(text, "text", "请填写答复内容")


def do_resolve_self_service(session: Session, case_id: int, *, text: str, actor: Actor,
                            now: datetime, calendar: WorkCalendar | None = None,
                            tz: tzinfo | None = None) -> Case:
    """即时办 by the phone menu: the caller heard the answer and pressed "solved".

    Closed and settled at once; no follow-up call and no SMS — the caller rated it already.
    """
    case, answer = check_resolve_self_service(session, case_id, text=text)
    before = snapshot(case, CASE_FIELDS)
    deadlines = deadlines_for(session, calendar, tz)
    case.mode = Mode.INSTANT
    session.add(Reply(case=case, text=answer, author=actor.name[:100], replied_at=now))
    move(case, "resolve_self_service", Status.CLOSED)
    case.answered_at = now
    case.answered_on = deadlines.local_date(now)
    timeliness.note_answer(case, now, deadlines.tz)
    case_event(session, case, "resolved_self_service", actor, now, before, reply=answer)
    ledger.settle(session, case, actor=actor, now=now)
    return case


# -- 流转办 --------------------------------------------------------------------------------------


def check_route_to_department(session: Session, case_id: int, *, department_id: int,
                              actor: Actor) -> tuple[Case, Department]:
    """The case and its lead unit, if the centre may route it there."""
    require_kind(actor, CENTRE, "流转交办")
    case = load_case(session, case_id)
    check(case, "route")
    (department,) = handling_departments(session, [department_id], "department_id")
    return case, department


def do_route_to_department(session: Session, case_id: int, *, department_id: int,
                           actor: Actor, now: datetime, note: str = "",
                           calendar: WorkCalendar | None = None, tz: tzinfo | None = None
                           ) -> Case:
    """流转办: one department handles it and answers within 2 working days of receiving it."""
    case, department = check_route_to_department(session, case_id,
                                                 department_id=department_id, actor=actor)
    before = snapshot(case, CASE_FIELDS)
    _route_to_lead(session, case, department, "route", now, calendar, tz)
    case_event(session, case, "routed", actor, now, before, note=note,
               departments=[department.name])
    return case


def _route_to_lead(session: Session, case: Case, department: Department, transition: str,
                   now: datetime, calendar: WorkCalendar | None, tz: tzinfo | None,
                   note: str = "") -> None:
    """流转办: one lead department, due 2 working days after receipt by the department; it is
    told (a unit that returned the case this round hears that its 退单 was not accepted)."""
    returned_it = any(a.department_id == department.id and a.round == case.rework_count
                      and a.state == AssignmentState.RETURNED for a in case.assignments)
    due = deadlines_for(session, calendar, tz).routed(now)
    assignment = assign(session, case, department, Role.LEAD, due, now)
    case.mode = Mode.ROUTED
    case.needs_review = False
    case.returned_at = None
    set_due(case, due)
    move(case, transition, Status.HANDLING)
    session.flush()
    mark_final_routing(session, case.id, {department.id})
    tell(session, assignment,
         NotificationKind.RETURN_REFUSED if returned_it else NotificationKind.ASSIGNED,
         now=now, note=note)


def check_reroute(session: Session, case_id: int, *, department_id: int, actor: Actor
                  ) -> tuple[Case, Department]:
    """The case and its new lead unit, if the centre may route it again."""
    require_kind(actor, CENTRE, "重新交办")
    case = load_case(session, case_id)
    check(case, "reroute")
    (department,) = handling_departments(session, [department_id], "department_id")
    return case, department


def do_reroute(session: Session, case_id: int, *, department_id: int, actor: Actor,
               now: datetime, reason: str = "", calendar: WorkCalendar | None = None,
               tz: tzinfo | None = None) -> Case:
    """Route again to one department (after a 退单, or to correct a routing); 2 working days."""
    case, department = check_reroute(session, case_id, department_id=department_id,
                                     actor=actor)
    before = snapshot(case, CASE_FIELDS)
    today = deadlines_for(session, calendar, tz).local_date(now)
    note_running_miss(case, today)
    withdrawn = withdraw_active(case, today)
    _route_to_lead(session, case, department, "reroute", now, calendar, tz, note=reason)
    case_event(session, case, "rerouted", actor, now, before, note=reason,
               departments=[department.name], withdrawn_department_ids=withdrawn)
    return case
