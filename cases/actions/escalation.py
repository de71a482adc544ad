"""研判上报: the task force sends a major or complex case to the leading group, whose decision
names the units that carry it out and the deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from sqlalchemy.orm import Session

from cases.actions.common import (
    CASE_FIELDS,
    assign,
    case_event,
    deadlines_for,
    handling_departments,
    load_case,
    note_running_miss,
    required_text,
    set_due,
    tell_all,
    withdraw_active,
)
from cases.actors import SUPERVISORS, Actor, require_kind
from cases.audit import snapshot
from cases.case_models import Case, Escalation
from cases.deadlines import DECISION_WORKING_DAYS, Deadlines
from cases.errors import InvalidInput
from cases.models import Department
from cases.notifications import NotificationKind
from cases.states import check, move
from cases.suggestions import mark_final_routing
from cases.vocab import Mode, Role, Status
from workdays.calendar import WorkCalendar


def check_escalate(session: Session, case_id: int, *, analysis: str, actor: Actor,
                   decision_days: int | None = None) -> tuple[Case, str, int]:
    """The case, the analysis and the working days the decision is due in, if the task force
    may escalate it."""
    require_kind(actor, SUPERVISORS, "研判上报")
    case = load_case(session, case_id)
    check(case, "escalate")
    text = required_text(analysis, "analysis", "请填写研判意见")
    days = decision_days if decision_days is not None else DECISION_WORKING_DAYS
    if days < 1:
        raise InvalidInput({"decision_days": "决定时限至少为1个工作日"})
    return case, text, days


def do_escalate(session: Session, case_id: int, *, analysis: str, actor: Actor, now: datetime,
                decision_days: int | None = None, calendar: WorkCalendar | None = None,
                tz: tzinfo | None = None) -> Case:
    """The task force's analysis sends a major or complex case to the leading group, whose
    decision is due within ``decision_days`` working days (``ESCALATION_DECISION_DAYS``);
    the reminders chase it like a department's deadline."""
    case, text, days = check_escalate(session, case_id, analysis=analysis, actor=actor,
                                      decision_days=decision_days)
    before = snapshot(case, CASE_FIELDS)
    today = deadlines_for(session, calendar, tz).local_date(now)
    note_running_miss(case, today)
    withdrawn = withdraw_active(case, today)
    due = deadlines_for(session, calendar, tz).decision(now, days)
    session.add(Escalation(case_id=case.id, analysis=text, escalated_at=now,
                           escalated_by=actor.name[:100], decision_due=due.day))
    case.mode = Mode.ESCALATED
    case.needs_review = False
    case.returned_at = None
    # Until the leading group sets the handling deadline, the case waits for its decision.
    set_due(case, due)
    move(case, "escalate", Status.ESCALATED)
    case_event(session, case, "escalated", actor, now, before, analysis=text,
               withdrawn_department_ids=withdrawn)
    return case


def check_record_leading_group_decision(
        session: Session, case_id: int, *, decision: str, deadline: date,
        department_ids: Sequence[int], actor: Actor, now: datetime,
        decided_at: datetime | None = None, tz: tzinfo | None = None
) -> tuple[Case, str, list[Department], Deadlines]:
    """The case, the plan, its units (the first leads) and the deadlines, if the decision can
    be recorded: a deadline not before today, a decision time not in the future."""
    require_kind(actor, SUPERVISORS, "登记领导小组决定")
    case = load_case(session, case_id)
    check(case, "record_decision")
    text = required_text(decision, "decision", "请填写处置方案")
    departments = handling_departments(session, department_ids)
    deadlines = deadlines_for(session, None, tz)
    if deadline < deadlines.local_date(now):
        raise InvalidInput({"deadline": "办结时限不能早于今天"})
    if decided_at is not None and (decided_at.tzinfo is None or decided_at > now):
        raise InvalidInput({"decided_at": "决定时间不能晚于当前时间"})
    return case, text, departments, deadlines


def do_record_leading_group_decision(session: Session, case_id: int, *, decision: str,
                                     deadline: date, department_ids: Sequence[int],
                                     actor: Actor, now: datetime, decided_by: str = "",
                                     decided_at: datetime | None = None,
                                     tz: tzinfo | None = None) -> Case:
    """The group leader's plan: who decided and when, the plan, the departments that carry it
    out (the first leads) and the deadline it sets."""
    case, text, departments, deadlines = check_record_leading_group_decision(
        session, case_id, decision=decision, deadline=deadline, department_ids=department_ids,
        actor=actor, now=now, decided_at=decided_at, tz=tz)
    before = snapshot(case, CASE_FIELDS)
    escalation = case.escalations[-1]
    escalation.decision, escalation.decision_deadline = text, deadline
    escalation.decided_at = decided_at or now
    escalation.decided_by = (decided_by or "").strip()[:100] or None
    note_running_miss(case, deadlines.local_date(now))  # decided after the decision date
    due = deadlines.decided(deadline)
    assigned = [assign(session, case, department, Role.LEAD if index == 0 else Role.CO,
                       due, now) for index, department in enumerate(departments)]
    set_due(case, due)
    move(case, "record_decision", Status.HANDLING)
    session.flush()
    mark_final_routing(session, case.id, {d.id for d in departments})
    tell_all(session, assigned, NotificationKind.ASSIGNED, now)
    case_event(session, case, "decision_recorded", actor, now, before, decision=text,
               departments=[d.name for d in departments], decided_by=escalation.decided_by,
               decided_at=escalation.decided_at.isoformat())
    return case
