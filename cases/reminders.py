"""Deadline notices to departments: 提醒 before, 催办 after, 督办 to the supervisors later.

Per active assignment, on working days:

- ``due_soon`` — due today or on the next working day: the department is reminded;
- ``overdue`` — past the due date (the first overdue working day): 催办 to the department;
- ``escalated`` — ``escalate_after`` overdue working days: the supervisors (企服专班) are told
  and the department learns that it was escalated.

Each level is sent at most once per assignment: the row in ``reminders`` is inserted first
with ``ON CONFLICT DO NOTHING`` and only the transaction that inserted it writes the
notifications and texts, so restarts and duplicate schedulers never send twice. Assignments
whose extension request awaits a decision are not chased (they asked in time); the request
does not stop the clock, though (:mod:`cases.timeliness`): the centre is reminded to decide it
within one working day (``extension``: the supervisors are told on the next working day after
the request, once per request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Assignment
from cases.notice_models import REMINDER_LEVEL_LABELS, ReminderLevel, ReminderSent
from cases.notifications import Audience, NotificationKind, notify
from cases.services import services, zone
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, Extension
from core.dialect import insert_or_ignore
from messaging.sms import send as send_sms
from messaging.texts import spoken_day
from workdays.calendar import WorkCalendar

REMINDER_ACTOR = Actor("system", "督办提醒")
def overdue_working_days(due: date, today: date, calendar: WorkCalendar) -> int:
    """Working days after ``due`` up to and including ``today``."""
    days, day = 0, due
    while True:
        day = calendar.add_working_days(day, 1).day
        if day > today:
            return days
        days += 1


def levels_due(due: date, today: date, calendar: WorkCalendar, *, escalate_after: int,
               extension_requested: bool = False) -> list[ReminderLevel]:
    """The notices an assignment due on ``due`` has earned by ``today`` (a working day)."""
    if not calendar.is_working(today):
        return []
    if due >= today:
        horizon = calendar.add_working_days(today, 1).day
        return [ReminderLevel.DUE_SOON] if due <= horizon else []
    if extension_requested:
        return []
    levels = [ReminderLevel.OVERDUE]
    if calendar.add_working_days(due, escalate_after).day <= today:
        levels.append(ReminderLevel.ESCALATED)
    return levels


def claim_once(session: Session, model: type[Any], values: dict[str, Any],
               unique: Sequence[str]) -> bool:
    """Insert the once-only row; True only for the transaction that inserted it."""
    stmt = insert_or_ignore(session, model, values, index_elements=unique)
    return session.execute(stmt.returning(model.id)).scalar_one_or_none() is not None


def _claim(session: Session, assignment: Assignment, level: ReminderLevel, now: datetime) -> bool:
    assert assignment.due_date is not None
    values = {"assignment_id": assignment.id, "level": str(level), "case_id": assignment.case_id,
              "department_id": assignment.department_id, "due_date": assignment.due_date,
              "sent_at": now}
    return claim_once(session, ReminderSent, values, ("assignment_id", "level"))


@dataclass
class ReminderRun:
    """What one run sent: ``(assignment id, level)`` pairs."""

    sent: list[tuple[int, str]] = field(default_factory=list)


def _send(session: Session, assignment: Assignment, level: ReminderLevel, *, today: date,
          calendar: WorkCalendar, now: datetime) -> None:
    case, department = assignment.case, assignment.department
    assert assignment.due_date is not None
    due = spoken_day(assignment.due_date)
    name, number = department.name, case.number
    days = overdue_working_days(assignment.due_date, today, calendar)
    common: dict[str, Any] = {"case": case, "now": now, "assignment_id": assignment.id}
    if level == ReminderLevel.DUE_SOON:
        notify(session, audience=Audience.DEPARTMENT, department_id=department.id,
               kind=NotificationKind.DUE_SOON, title=f"到期提醒：诉求{number}将于{due}到期",
               body=f"{name}承办的诉求{number}办理期限为{due}，请在期限内答复企业。", **common)
    elif level == ReminderLevel.OVERDUE:
        notify(session, audience=Audience.DEPARTMENT, department_id=department.id,
               kind=NotificationKind.OVERDUE, title=f"催办：诉求{number}已超过办理期限",
               body=f"{name}承办的诉求{number}已超过办理期限（{due}），请尽快办理并答复企业。",
               **common)
    else:
        body = f"{name}承办的诉求{number}已逾期{days}个工作日（办理期限{due}）未答复，"
        notify(session, audience=Audience.SUPERVISOR, kind=NotificationKind.ESCALATED,
               title=f"督办：{name}诉求{number}逾期{days}个工作日",
               body=body + "请企服专班督办。", **common)
        notify(session, audience=Audience.DEPARTMENT, department_id=department.id,
               kind=NotificationKind.ESCALATED, title=f"督办：诉求{number}已提请企服专班督办",
               body=body + "已提请企服专班督办，请立即办理。", **common)
    params = {"department": name, "number": number, "due": due, "days": days}
    for phone in dict.fromkeys(services(session).liaison_phones(session, department.id)):
        send_sms(session, kind=str(level), to=phone, params=params, case_id=case.id,
                 now=now, dedupe_key=f"reminder:{assignment.id}:{level}:{phone}")
    record_event(session, case, actor=REMINDER_ACTOR, action=f"reminder_{level}", now=now,
                 after={"assignment_id": assignment.id, "department_id": department.id,
                        "level": str(level)},
                 note=f"{REMINDER_LEVEL_LABELS[level]}：{name}")


def remind_extension_decisions(session: Session, now: datetime, today: date,
                               calendar: WorkCalendar, tz: tzinfo) -> list[tuple[int, str]]:
    """延期待审批: requests the centre has not decided by the next working day after they
    were made; the supervisors are told once per request (the clock runs meanwhile)."""
    sent: list[tuple[int, str]] = []
    pending = session.scalars(
        select(Assignment)
        .options(selectinload(Assignment.case), selectinload(Assignment.department))
        .where(Assignment.extension_status == Extension.REQUESTED,
               Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES))
        .order_by(Assignment.extension_requested_at, Assignment.id)).all()
    for assignment in pending:
        if assignment.extension_requested_at is None or assignment.due_date is None:
            continue
        asked = assignment.extension_requested_at.astimezone(tz).date()
        decide_by = calendar.add_working_days(asked, 1).day
        if today < decide_by:
            continue
        values = {"assignment_id": assignment.id, "level": str(ReminderLevel.EXTENSION),
                  "case_id": assignment.case_id, "department_id": assignment.department_id,
                  "due_date": assignment.due_date, "sent_at": now}
        if not claim_once(session, ReminderSent, values, ("assignment_id", "level")):
            continue
        case, name = assignment.case, assignment.department.name
        notify(session, audience=Audience.SUPERVISOR, kind=NotificationKind.EXT_PENDING,
               case=case, assignment_id=assignment.id, now=now,
               title=f"延期待审批：诉求{case.number}（{name}）",
               body=(f"{name}于{spoken_day(asked)}申请将诉求{case.number}的办理期限延至"
                     f"{spoken_day(assignment.extension_due or assignment.due_date)}，"
                     f"原期限{spoken_day(assignment.due_date)}。延期申请在批准前不停止计时，"
                     f"请于{spoken_day(decide_by)}前审批。"))
        sent.append((assignment.id, str(ReminderLevel.EXTENSION)))
    return sent


def send_reminders(session: Session, now: datetime, *, calendar: WorkCalendar,
                   escalate_after: int = 2, tz: tzinfo | None = None) -> ReminderRun:
    """Send every notice that is due and was not sent before; safe to run concurrently."""
    today = now.astimezone(zone(session, tz)).date()
    run = ReminderRun()
    if not calendar.is_working(today):
        return run
    horizon = calendar.add_working_days(today, 1).day
    finished = exists().where(ReminderSent.assignment_id == Assignment.id,
                              ReminderSent.level == ReminderLevel.ESCALATED)
    candidates = session.scalars(
        select(Assignment)
        .options(selectinload(Assignment.case), selectinload(Assignment.department))
        .where(Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES), Assignment.due_date.is_not(None),
               Assignment.due_date <= horizon, ~finished)
        .order_by(Assignment.due_date, Assignment.id)
    ).all()
    run.sent += remind_extension_decisions(session, now, today, calendar, zone(session, tz))
    for assignment in candidates:
        assert assignment.due_date is not None
        levels = levels_due(
            assignment.due_date, today, calendar, escalate_after=escalate_after,
            extension_requested=assignment.extension_status == Extension.REQUESTED)
        for level in levels:
            if _claim(session, assignment, level, now):
                _send(session, assignment, level, today=today, calendar=calendar, now=now)
                run.sent.append((assignment.id, str(level)))
    return run
