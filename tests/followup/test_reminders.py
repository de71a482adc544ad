"""Deadline reminders: 提醒 / 催办 / 督办, each exactly once per assignment and level."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from cases import reminders
from cases.notice_models import ReminderLevel, ReminderSent
from cases.notifications import Audience, Notification, inbox, mark_read, unread_count
from console.models import User
from core.db import db
from followup import jobs as followup_jobs
from messaging import jobs as sms_jobs
from messaging.models import SmsMessage
from tests.cases.factories import department_id, local, routed_case
from tests.workers.periodic_support import race_two_schedulers
from workdays.calendar import WorkCalendar

CALENDAR = WorkCalendar()
LIAISON_PHONE = "+8613900139000"
REMINDER_JOB = followup_jobs.send_reminders_job
# Reminder notices only (routing itself tells the department too: ``assigned``).
REMINDER_NOTICES = select(func.count()).select_from(Notification).where(
    Notification.kind.in_([str(level) for level in ReminderLevel]))


def route(now: str) -> int:
    """A case routed to 区经信局 at ``now`` (due two working days later); its assignment id."""
    with db.transaction() as session:
        return routed_case(session, local(now)).assignments[0].id


def add_liaison(phone: str | None = LIAISON_PHONE) -> None:
    with db.transaction() as session:
        session.add(User(username="jxj", display_name="经信局联络员", role="department",
                         department_id=department_id(session, "区经信局"), password_hash="x",
                         phone=phone))


def sent() -> list[tuple[int, str]]:
    db.session.rollback()
    return [(a, lvl) for a, lvl in db.session.execute(
        select(ReminderSent.assignment_id, ReminderSent.level).order_by(ReminderSent.id))]


@pytest.mark.parametrize(("due", "today", "levels"), [
    ("2026-11-25", "2026-11-24", ["due_soon"]),           # tomorrow
    ("2026-11-24", "2026-11-24", ["due_soon"]),           # today
    ("2026-11-26", "2026-11-24", []),                     # two working days away
    ("2026-11-30", "2026-11-27", ["due_soon"]),           # Monday, seen on Friday
    ("2026-11-24", "2026-11-25", ["overdue"]),            # first overdue working day
    ("2026-11-24", "2026-11-26", ["overdue", "escalated"]),  # two overdue working days
    ("2026-11-27", "2026-11-28", []),                     # Saturday: nothing is sent
    ("2026-11-27", "2026-11-30", ["overdue"]),            # Monday is the first overdue day
    ("2026-09-30", "2026-10-08", ["overdue"]),            # the holiday does not count
])
def test_levels(due: str, today: str, levels: list[str]) -> None:
    found = reminders.levels_due(date.fromisoformat(due), date.fromisoformat(today), CALENDAR,
                                 escalate_after=2)
    assert [str(level) for level in found] == levels


def test_extension_request_pending_is_not_chased() -> None:
    assert reminders.levels_due(date(2026, 11, 24), date(2026, 11, 25), CALENDAR,
                                escalate_after=2, extension_requested=True) == []


def test_reminder_then_overdue_then_escalation(jobs: Any, clock: Any) -> None:
    assignment_id = route("2026-11-23 10:00")  # Monday → due Wednesday the 25th
    add_liaison()
    clock.set_local("2026-11-24 09:00")
    assert followup_jobs.send_reminders_job() == 1
    assert followup_jobs.send_reminders_job() == 0  # a restart sends nothing again
    clock.set_local("2026-11-26 09:00")
    assert followup_jobs.send_reminders_job() == 1
    clock.set_local("2026-11-27 09:00")
    assert followup_jobs.send_reminders_job() == 1
    assert sent() == [(assignment_id, "due_soon"), (assignment_id, "overdue"),
                      (assignment_id, "escalated")]
    session = db.session()
    department = department_id(session, "区经信局")
    titles = [n.title for n in inbox(session, Audience.DEPARTMENT, department_id=department)]
    assert titles == ["督办：诉求2611230001已提请企服专班督办",
                      "催办：诉求2611230001已超过办理期限",
                      "到期提醒：诉求2611230001将于11月25日到期",
                      "新交办：诉求2611230001，请于11月25日前答复"]
    (escalation,) = inbox(session, Audience.SUPERVISOR)
    assert escalation.title == "督办：区经信局诉求2611230001逾期2个工作日"
    assert escalation.body == (
        "区经信局承办的诉求2611230001已逾期2个工作日（办理期限11月25日）未答复，请企服专班督办。")
    texts = [(m.to, m.kind) for m in session.scalars(select(SmsMessage).order_by(SmsMessage.id))]
    assert texts == [(LIAISON_PHONE, "due_soon"), (LIAISON_PHONE, "overdue"),
                     (LIAISON_PHONE, "escalated")]
    assert unread_count(session, Audience.SUPERVISOR) == 1
    assert mark_read(session, escalation.id, reader="专班张组长", now=clock(),
                     audience=Audience.SUPERVISOR)
    assert unread_count(session, Audience.SUPERVISOR) == 0


def test_liaison_text_message_in_chinese(jobs: Any, clock: Any, twilio_http: Any) -> None:
    route("2026-11-23 10:00")
    add_liaison()
    clock.set_local("2026-11-24 09:00")
    followup_jobs.send_reminders_job()
    (message_id,) = db.session.scalars(select(SmsMessage.id))
    sms_jobs.send_sms(message_id)
    (sent_sms,) = twilio_http.messages()
    assert sent_sms.data == {"To": LIAISON_PHONE, "From": "+8610690000",
                             "Body": "【奉化8718】区经信局：诉求2611230001将于11月25日到期，"
                                     "请及时办理答复。",
                             "StatusCallback": "https://hotline.example.test/ivr/sms/status"
                                               f"?message={message_id}"}


def test_no_phone_no_text_but_the_console_notice(jobs: Any, clock: Any) -> None:
    route("2026-11-23 10:00")
    add_liaison(phone=None)
    clock.set_local("2026-11-24 09:00")
    followup_jobs.send_reminders_job()
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    assert db.session.scalar(REMINDER_NOTICES) == 1


def test_two_schedulers_send_each_reminder_exactly_once(
        jobs: Any, clock: Any, redis_conn: Any, redis_url: str) -> None:
    jobs.config["REDIS_URL"] = redis_url
    route("2026-11-23 10:00")
    route("2026-11-23 11:00")
    add_liaison()
    clock.set_local("2026-11-24 09:00")
    results = race_two_schedulers(redis_conn, REMINDER_JOB)
    assert sorted(results) == [0, 2]
    assert len(sent()) == 2
    assert db.session.scalar(REMINDER_NOTICES) == 2
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 2


def test_the_database_alone_keeps_concurrent_runs_to_one_notice(jobs: Any, clock: Any) -> None:
    """Without the Redis lock (expired, or Redis down) the unique rows still decide."""
    assignment_id = route("2026-11-23 10:00")
    now = local("2026-11-24 09:00")
    runs: list[list[tuple[int, str]]] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        for attempt in range(20):
            try:
                with db.transaction() as session:
                    runs.append(reminders.send_reminders(session, now, calendar=CALENDAR).sent)
                return
            except OperationalError:  # SQLite: "database is locked"; RQ would retry the job
                time.sleep(0.05 * (attempt + 1))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(runs) == [[], [(assignment_id, ReminderLevel.DUE_SOON)]]
    assert sent() == [(assignment_id, "due_soon")]
    assert db.session.scalar(REMINDER_NOTICES) == 1


def test_the_centre_is_reminded_to_decide_an_extension_request_within_one_working_day(
        app: Any) -> None:
    from cases.actions.extensions import do_approve_extension, do_request_extension
    from cases.case_models import Assignment
    from tests.cases.factories import OPERATOR, liaison

    assignment_id = route("2026-11-24 09:00")  # Tuesday, due Thursday 11-26
    with db.transaction() as session:
        do_request_extension(session, assignment_id, new_due=date(2026, 12, 4),
                             reason="需补充材料", agreed_with_enterprise=True,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-24 15:00"))

    def run(now: str) -> list[tuple[int, str]]:
        with db.transaction() as session:
            return reminders.send_reminders(session, local(now), calendar=CALENDAR).sent

    assert ("extension" not in [lvl for _a, lvl in run("2026-11-24 16:00")])
    assert (assignment_id, "extension") in run("2026-11-25 08:00")  # the next working day
    assert (assignment_id, "extension") not in run("2026-11-25 12:00")  # once
    notes = list(db.session.scalars(select(Notification).where(
        Notification.kind == "ext_pending")))
    assert len(notes) == 1 and notes[0].audience == Audience.SUPERVISOR
    assert "延期申请在批准前不停止计时" in notes[0].body and "11月25日前审批" in notes[0].body
    with db.transaction() as session:
        do_approve_extension(session, assignment_id, enterprise_informed=True,
                             actor=OPERATOR, now=local("2026-11-25 14:00"))
        assert session.get(Assignment, assignment_id).extension_status == "approved"
