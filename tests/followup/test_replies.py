"""Department reply types (答复 / 解释说明 / 进度反馈): case, audit, the enterprise's text."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cases.actions.assignments import do_reply, do_report_progress
from cases.actions.triage import do_route_to_department
from cases.case_models import Case, CaseEvent
from cases.errors import InvalidInput, NotYourCase
from core.db import db
from messaging import jobs as sms_jobs
from messaging.models import SmsMessage
from messaging.texts import SMS_MAX_CHARS
from tests.cases.factories import CALENDAR, OPERATOR, department_id, liaison, local, new_case
from tests.followup.support import MOBILE

NOW = local("2026-11-24 10:00")  # Tuesday
UNIT = "区经信局"


def routed(phone: str | None = MOBILE) -> tuple[int, int]:
    """A case routed to 区经信局: ``(case id, assignment id)``, committed."""
    with db.transaction() as session:
        case = new_case(session, NOW, contact_phone=phone)
        do_route_to_department(session, case.id, department_id=department_id(
            session, UNIT), actor=OPERATOR, now=NOW, calendar=CALENDAR)
        return case.id, case.assignments[0].id


def texts() -> list[SmsMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def sent_bodies(twilio_http: Any) -> list[str]:
    for message in texts():
        sms_jobs.send_sms(message.id)
    return [m.data["Body"] for m in twilio_http.messages()]


def events_of(case_id: int) -> list[CaseEvent]:
    db.session.rollback()
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def test_answer_closes_the_assignment_and_texts_the_answer(jobs: Any, twilio_http: Any) -> None:
    case_id, assignment_id = routed()
    with db.transaction() as session:
        do_reply(session, assignment_id, text="已为企业办理用电增容，供电公司将于下周上门。",
                 actor=liaison(session, UNIT), now=NOW, calendar=CALENDAR)
    case = db.session.get(Case, case_id)
    assert case is not None and case.status == "answered"
    assert [r.kind for r in case.replies] == ["answer"]
    assert sent_bodies(twilio_http) == [
        "【奉化8718】您的诉求（编号2611240001）已办理答复。区经信局答复：已为企业办理用电增容，"
        "供电公司将于下周上门。我们将电话回访，请您对办理结果进行评价。查询请致电0574-88888718按9。"]
    replied = [e for e in events_of(case_id) if e.action == "replied"]
    assert replied[0].after["kind"] == "answer"


def test_explanation_needs_the_policy_and_closes_with_it(jobs: Any, twilio_http: Any) -> None:
    case_id, assignment_id = routed()
    with db.transaction() as session, pytest.raises(InvalidInput) as refused:
        do_reply(session, assignment_id, kind="explanation", text="不符合补助条件",
                 actor=liaison(session, UNIT), now=NOW, calendar=CALENDAR)
    assert refused.value.fields == {"policy_basis": "解释说明须注明所依据的政策"}
    with db.transaction() as session:
        do_reply(session, assignment_id, kind="explanation",
                 text="企业上年度产值未达到申报门槛，暂不能享受技改补助",
                 policy_basis="奉政办发〔2021〕12号第三条", actor=liaison(session, UNIT),
                 now=NOW, calendar=CALENDAR)
    case = db.session.get(Case, case_id)
    assert case is not None and case.status == "answered"
    (reply,) = case.replies
    assert (reply.kind, reply.policy_basis) == ("explanation", "奉政办发〔2021〕12号第三条")
    explained = [e for e in events_of(case_id) if e.action == "explained"]
    assert explained[0].after["policy_basis"] == "奉政办发〔2021〕12号第三条"
    assert sent_bodies(twilio_http) == [
        "【奉化8718】您的诉求（编号2611240001）已办理答复。区经信局解释说明：企业上年度产值未达到"
        "申报门槛，暂不能享受技改补助（依据：奉政办发〔2021〕12号第三条）。我们将电话回访，请您对办理"
        "结果进行评价。查询请致电0574-88888718按9。"]


def test_progress_keeps_the_case_open_and_its_deadline(jobs: Any, twilio_http: Any) -> None:
    case_id, assignment_id = routed()
    due_before = db.session.get(Case, case_id).due_date  # type: ignore[union-attr]
    with db.transaction() as session:
        do_report_progress(session, assignment_id, text="已联系供电公司现场勘查",
                           actor=liaison(session, UNIT), now=NOW)
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    assert (case.status, case.due_date, case.assignments[0].state) == (
        "handling", due_before, "accepted")
    assert [e.action for e in events_of(case_id)][-1] == "progress_reported"
    assert sent_bodies(twilio_http) == [
        "【奉化8718】您的诉求（编号2611240001）办理进展：区经信局：已联系供电公司现场勘查。"
        "查询请致电0574-88888718按9。"]
    # Progress is not an answer: the department still answers afterwards.
    with db.transaction() as session:
        do_reply(session, assignment_id, text="已办结", actor=liaison(session, UNIT),
                 now=NOW, calendar=CALENDAR)
    assert db.session.get(Case, case_id).status == "answered"  # type: ignore[union-attr]


def test_a_long_answer_is_shortened_to_fit_the_text(jobs: Any, twilio_http: Any) -> None:
    _case_id, assignment_id = routed()
    answer = "经核实，" + "企业反映的厂区道路积水问题已列入年度改造计划" * 40
    with db.transaction() as session:
        do_reply(session, assignment_id, text=answer, actor=liaison(session, UNIT),
                 now=NOW, calendar=CALENDAR)
    (body,) = sent_bodies(twilio_http)
    assert len(body) == SMS_MAX_CHARS
    assert "区经信局答复：经核实，企业反映" in body
    assert body.endswith("…。我们将电话回访，请您对办理结果进行评价。查询请致电0574-88888718按9。")


def test_no_mobile_no_text_and_the_reply_still_counts(jobs: Any) -> None:
    case_id, assignment_id = routed(phone="+8657487654321")
    with db.transaction() as session:
        do_report_progress(session, assignment_id, text="正在协调",
                           actor=liaison(session, UNIT), now=NOW)
    assert texts() == []
    assert db.session.get(Case, case_id).replies[0].kind == "progress"  # type: ignore[union-attr]


def test_another_department_cannot_report_progress(jobs: Any) -> None:
    _case_id, assignment_id = routed()
    with db.transaction() as session, pytest.raises(NotYourCase):
        do_report_progress(session, assignment_id, text="正在协调",
                           actor=liaison(session, "区财政局"), now=NOW)


def test_delivery_status_comes_back_through_the_signed_callback(
        jobs: Any, twilio_http: Any, twilio_post: Any) -> None:
    _case_id, assignment_id = routed()
    with db.transaction() as session:
        do_report_progress(session, assignment_id, text="正在协调",
                           actor=liaison(session, UNIT), now=NOW)
    (message,) = texts()
    sid = sms_jobs.send_sms(message.id)
    (sent,) = twilio_http.messages()
    callback = f"https://hotline.example.test/ivr/sms/status?message={message.id}"
    assert sent.data["StatusCallback"] == callback
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003",
              "AccountSid": "AC" + "1" * 32}
    path = f"/ivr/sms/status?message={message.id}"
    assert twilio_post(path, params, signature="forged").status_code == 403
    assert texts()[0].delivery_status is None
    assert twilio_post(path, params).status_code == 204
    (message,) = texts()
    assert (message.status, message.delivery_status, message.delivery_error_code) == (
        "sent", "undelivered", "30003")
    assert message.delivery_updated_at is not None
    # A callback naming another message's sid changes nothing.
    other = {**params, "MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert twilio_post(path, other).status_code == 204
    assert texts()[0].delivery_status == "undelivered"
