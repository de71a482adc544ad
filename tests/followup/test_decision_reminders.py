"""研判上报 has a clock: the leading group's decision is chased (提醒/催办/督办) once a level."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from cases.actions.escalation import do_escalate, do_record_leading_group_decision
from cases.case_models import CaseEvent
from cases.notice_models import EscalationReminderSent
from cases.notifications import Audience, Notification, inbox
from core.db import db
from followup import jobs as followup_jobs
from tests.cases.factories import CALENDAR, SUPERVISOR, department_id, local, new_case
from tests.workers.periodic_support import race_two_schedulers

REMINDER_JOB = followup_jobs.send_reminders_job


def escalated(at: str = "2026-11-24 09:00", days: int = 3) -> int:
    """A case escalated at ``at`` whose decision is due ``days`` working days later."""
    with db.transaction() as session:
        case = new_case(session, local(at))
        do_escalate(session, case.id, analysis="涉及多个镇街土地指标，需领导小组研究",
                    actor=SUPERVISOR, now=local(at), decision_days=days,
                    calendar=CALENDAR)
        return case.id


def levels() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(
        select(EscalationReminderSent.level).order_by(EscalationReminderSent.id)))


def run_at(clock: Any, local_time: str) -> int:
    clock.set_local(local_time)
    return followup_jobs.send_reminders_job()


def test_reminder_then_chase_then_supervision_each_once(jobs: Any, clock: Any) -> None:
    case_id = escalated()  # Tuesday; decision due Friday 27 Nov
    assert run_at(clock, "2026-11-25 09:00") == 0  # two working days away
    assert run_at(clock, "2026-11-26 09:00") == 1  # Friday is the next working day
    assert run_at(clock, "2026-11-27 09:00") == 0  # due today: already reminded
    assert run_at(clock, "2026-11-28 09:00") == 0  # Saturday
    assert run_at(clock, "2026-11-30 09:00") == 1  # Monday: overdue, 催办
    assert run_at(clock, "2026-12-01 09:00") == 1  # two overdue working days: 督办
    assert run_at(clock, "2026-12-02 09:00") == 0
    assert levels() == ["due_soon", "overdue", "escalated"]
    titles = [n.title for n in reversed(inbox(db.session, Audience.SUPERVISOR))]
    assert titles == ["研判上报提醒：诉求2611240001的领导小组决定将于11月27日到期",
                      "催办：诉求2611240001的领导小组决定已超期",
                      "督办：诉求2611240001的领导小组决定逾期2个工作日"]
    actions = db.session.scalars(select(CaseEvent.action).where(
        CaseEvent.case_id == case_id, CaseEvent.action.like("decision_%"))
        .order_by(CaseEvent.id)).all()
    assert actions == ["decision_due_soon", "decision_overdue", "decision_escalated"]


def test_a_decided_case_is_no_longer_chased(jobs: Any, clock: Any) -> None:
    case_id = escalated()
    with db.transaction() as session:
        do_record_leading_group_decision(
            session, case_id, decision="专题研究：调剂用地指标", deadline=date(2026, 12, 31),
            department_ids=[department_id(session, "区发改局")], decided_by="分管副区长",
            decided_at=local("2026-11-25 16:00"), actor=SUPERVISOR,
            now=local("2026-11-26 08:00"))
    assert run_at(clock, "2026-11-30 09:00") == 0
    assert levels() == []


def test_two_schedulers_chase_each_decision_once(jobs: Any, clock: Any, redis_conn: Any,
                                                 redis_url: str) -> None:
    jobs.config["REDIS_URL"] = redis_url
    escalated()
    clock.set_local("2026-12-01 09:00")  # overdue and due for 督办 at once
    results = race_two_schedulers(redis_conn, REMINDER_JOB)
    assert sorted(results) == [0, 2]
    assert levels() == ["overdue", "escalated"]
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
