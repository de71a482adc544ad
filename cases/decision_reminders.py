"""The leading group's decision on a 研判上报 case has a clock, chased like a department's.

Per escalation still waiting for its decision, on working days: ``due_soon`` (due today or
the next working day), ``overdue`` (催办, past the decision day) and, after
``escalate_after`` overdue working days, ``escalated`` (督办). Every notice goes to the task
force (supervisors' inbox); each level is sent once per escalation, whatever the number of
schedulers, through the unique ``escalation_reminders`` rows.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cases.audit import record_event
from cases.case_models import Case, Escalation
from cases.notice_models import REMINDER_LEVEL_LABELS, EscalationReminderSent, ReminderLevel
from cases.notifications import Audience, NotificationKind, notify
from cases.reminders import REMINDER_ACTOR, claim_once, levels_due, overdue_working_days
from cases.services import zone
from cases.vocab import Status
from messaging.texts import spoken_day
from workdays.calendar import WorkCalendar

KINDS = {ReminderLevel.DUE_SOON: NotificationKind.DUE_SOON,
         ReminderLevel.OVERDUE: NotificationKind.OVERDUE,
         ReminderLevel.ESCALATED: NotificationKind.ESCALATED}


def _texts(level: ReminderLevel, number: str, due: str, days: int) -> tuple[str, str]:
    if level == ReminderLevel.DUE_SOON:
        return (f"研判上报提醒：诉求{number}的领导小组决定将于{due}到期",
                f"诉求{number}已研判上报，领导小组应于{due}前作出处置决定，请及时提请决定并登记。")
    if level == ReminderLevel.OVERDUE:
        return (f"催办：诉求{number}的领导小组决定已超期",
                f"诉求{number}的领导小组决定期限为{due}，至今未登记处置决定，请尽快提请决定。")
    return (f"督办：诉求{number}的领导小组决定逾期{days}个工作日",
            f"诉求{number}的领导小组决定已逾期{days}个工作日（期限{due}），请提请领导小组督办。")


def send_decision_reminders(session: Session, now: datetime, *, calendar: WorkCalendar,
                            escalate_after: int = 2, tz: tzinfo | None = None
                            ) -> list[tuple[int, str]]:
    """Send every due notice about pending decisions not sent before: ``(escalation id,
    level)`` pairs. Safe to run concurrently."""
    today = now.astimezone(zone(session, tz)).date()
    if not calendar.is_working(today):
        return []
    horizon = calendar.add_working_days(today, 1).day
    finished = exists().where(EscalationReminderSent.escalation_id == Escalation.id,
                              EscalationReminderSent.level == ReminderLevel.ESCALATED)
    pending = session.execute(
        select(Escalation, Case).join(Case, Case.id == Escalation.case_id)
        .where(Case.status == Status.ESCALATED, Escalation.decided_at.is_(None),
               Escalation.decision_due.is_not(None), Escalation.decision_due <= horizon,
               ~finished)
        .order_by(Escalation.decision_due, Escalation.id)).all()
    sent: list[tuple[int, str]] = []
    for escalation, case in pending:
        due_day = escalation.decision_due
        assert due_day is not None
        for level in levels_due(due_day, today, calendar, escalate_after=escalate_after):
            values = {"escalation_id": escalation.id, "level": str(level),
                      "case_id": escalation.case_id, "due_date": due_day, "sent_at": now}
            if not claim_once(session, EscalationReminderSent, values,
                              ("escalation_id", "level")):
                continue
            title, body = _texts(level, case.number, spoken_day(due_day),
                                 overdue_working_days(due_day, today, calendar))
            notify(session, audience=Audience.SUPERVISOR, kind=KINDS[level], case=case,
                   title=title, body=body, now=now)
            record_event(session, case, actor=REMINDER_ACTOR, action=f"decision_{level}",
                         now=now, after={"escalation_id": escalation.id, "level": str(level)},
                         note=f"领导小组决定{REMINDER_LEVEL_LABELS[level]}")
            sent.append((escalation.id, str(level)))
    return sent
