"""Departments hear about their assignments: once per event, in the console and by SMS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cases.actions.assignments import do_reply, do_return_assignment
from cases.actions.extensions import do_approve_extension, do_reject_extension, do_request_extension
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_reroute, do_route_to_department
from cases.case_models import Case
from cases.notifications import Notification
from console.models import User
from core.db import db
from messaging import jobs as sms_jobs
from messaging.models import SmsMessage
from tests.cases.factories import CALENDAR, OPERATOR, department_id, liaison, local, new_case
from tests.followup.support import MOBILE

UNIT = "区经信局"
LIAISON = "+8613900139000"
NOW = local("2026-11-23 10:00")  # Monday


def add_liaison(name: str = UNIT, phone: str | None = LIAISON) -> None:
    with db.transaction() as session:
        session.add(User(username=f"u{department_id(session, name)}", display_name="联络员",
                         role="department", department_id=department_id(session, name),
                         password_hash="x", phone=phone))


def notices() -> list[tuple[str, str]]:
    db.session.rollback()
    return [(n.kind, n.title) for n in db.session.scalars(
        select(Notification).where(Notification.audience == "department")
        .order_by(Notification.id))]


def texts(twilio_http: Any) -> list[str]:
    for message in db.session.scalars(select(SmsMessage).where(SmsMessage.to == LIAISON)
                                      .order_by(SmsMessage.id)):
        sms_jobs.send_sms(message.id)
    return [m.data["Body"] for m in twilio_http.messages() if m.data["To"] == LIAISON]


def routed() -> tuple[int, int]:
    with db.transaction() as session:
        case = new_case(session, NOW, contact_phone=MOBILE)
        do_route_to_department(session, case.id, department_id=department_id(
            session, UNIT), actor=OPERATOR, now=NOW, calendar=CALENDAR)
        return case.id, case.assignments[0].id


def test_new_assignment_and_extension_decisions_each_told_once(jobs: Any,
                                                               twilio_http: Any) -> None:
    add_liaison()
    _case_id, assignment_id = routed()
    with db.transaction() as session:
        assignment = session.get_one(Case, _case_id).assignments[0]
        do_request_extension(session, assignment_id,
                             new_due=assignment.due_date + timedelta(days=10),
                             reason="需现场踏勘", agreed_with_enterprise=True,
                             actor=liaison(session, UNIT), now=NOW)
        do_reject_extension(session, assignment_id, reason="可在期限内办结",
                            actor=OPERATOR, now=NOW)
        do_request_extension(session, assignment_id,
                             new_due=assignment.due_date + timedelta(days=5),
                             reason="需补充材料", agreed_with_enterprise=True,
                             actor=liaison(session, UNIT), now=NOW)
        do_approve_extension(session, assignment_id, enterprise_informed=True,
                             actor=OPERATOR, now=NOW)
    assert notices() == [
        ("assigned", "新交办：诉求2611230001，请于11月25日前答复"),
        ("ext_rejected", "延期未批准：诉求2611230001请于原期限11月25日前答复"),
        ("ext_approved", "延期已批准：诉求2611230001办理期限延至11月30日"),
    ]
    assert texts(twilio_http) == [
        "【奉化8718】区经信局：新交办诉求2611230001，请于11月25日前办理答复。",
        "【奉化8718】区经信局：诉求2611230001延期申请未获批准，请于原期限11月25日前办理答复。",
        "【奉化8718】区经信局：诉求2611230001延期申请已批准，办理期限延至11月30日。",
    ]


def test_a_refused_return_and_a_rework_are_told(jobs: Any) -> None:
    add_liaison(phone=None)  # console only: no mobile, no text
    case_id, assignment_id = routed()
    with db.transaction() as session:
        do_return_assignment(session, assignment_id, reason="非本单位职责",
                             actor=liaison(session, UNIT), now=NOW, calendar=CALENDAR)
        do_reroute(session, case_id, department_id=department_id(session, UNIT),
                   reason="属于经信局职责，请办理", actor=OPERATOR, now=NOW,
                   calendar=CALENDAR)
        second = session.get_one(Case, case_id).assignments[-1]
        do_reply(session, second.id, text="已办结", actor=liaison(session, UNIT),
                 now=NOW, calendar=CALENDAR)
        do_record_rating(session, case_id, score=2, via="operator", actor=OPERATOR,
                         now=NOW, calendar=CALENDAR)
    kinds = [kind for kind, _title in notices()]
    assert kinds == ["assigned", "return_refused", "poor_rating", "rework"]
    refused = db.session.scalars(select(Notification).where(
        Notification.kind == "return_refused")).one()
    assert refused.body.endswith("说明：属于经信局职责，请办理")
    assert db.session.scalars(select(SmsMessage).where(SmsMessage.to == LIAISON)).all() == []
