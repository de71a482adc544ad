"""Texts under the hotline's name: limited per case and per phone, only the system's signature,
no links or other phone numbers from what departments wrote, explanations with their policy
basis in full, merge texts that name no other contact's case, a text after 取消并单."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cases import duplicates
from cases.actions.assignments import do_reply, do_report_progress
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from core.db import db
from messaging import jobs as sms_jobs
from messaging import outbox, texts
from messaging.models import SmsMessage
from tests.cases.factories import CALENDAR, OPERATOR, department_id, liaison, local, new_case

NOW = local("2026-11-24 10:00")  # Tuesday
UNIT = "区经信局"
MOBILE = "+8613800138000"
OTHER = "+8613900139000"


def routed(phone: str = MOBILE, at: Any = NOW) -> tuple[int, int]:
    with db.transaction() as session:
        case = new_case(session, at, contact_phone=phone)
        do_route_to_department(session, case.id, department_id=department_id(
            session, UNIT), actor=OPERATOR, now=at, calendar=CALENDAR)
        return case.id, case.assignments[0].id


def texts_to(phone: str = MOBILE) -> list[SmsMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.to == phone)
                                   .order_by(SmsMessage.id)))


def body(message: SmsMessage, twilio_http: Any) -> str:
    assert sms_jobs.send_sms(message.id).startswith("SM")
    return str(twilio_http.messages()[-1].data["Body"])


def test_an_explanation_goes_out_in_full_with_its_policy_basis(jobs: Any,
                                                              twilio_http: Any) -> None:
    _case, assignment = routed()
    text = "经核实，贵企业2025年度研发投入占营业收入比例未达到申报条件，" * 5
    basis = ("《宁波市奉化区关于促进制造业高质量发展的若干政策意见》"
             "奉政发〔2023〕12号第三条第（二）款")
    with db.transaction() as session:
        do_reply(session, assignment, text=text, kind="explanation", policy_basis=basis,
                 actor=liaison(session, UNIT), now=NOW, calendar=CALENDAR)
    (message,) = texts_to()
    sent = body(message, twilio_http)
    assert len(sent) > 134  # concatenated, not cut to two segments
    assert f"解释说明：{text.rstrip('，')}（依据：{basis}）。" in sent


def test_a_very_long_explanation_is_shortened_but_never_its_basis(jobs: Any,
                                                                 twilio_http: Any) -> None:
    _case, assignment = routed()
    basis = "奉政发〔2023〕12号第三条"
    with db.transaction() as session:
        do_reply(session, assignment, text="不符合申报条件。" * 200, kind="explanation",
                 policy_basis=basis, actor=liaison(session, UNIT), now=NOW,
                 calendar=CALENDAR)
    sent = body(texts_to()[0], twilio_http)
    assert len(sent) <= texts.SMS_MAX_CHARS
    assert f"…（依据：{basis}）。我们将电话回访" in sent


def test_department_text_carries_no_link_phone_or_signature_of_its_own(
        jobs: Any, twilio_http: Any) -> None:
    _case, assignment = routed()
    note = ("【奉化8718】您的退税已到账，请点击 http://fh-tax.example.cn/refund 或 "
            "www.refund-fh.cn 确认，或致电13912345678、0574-87654321；热线0574-88888718")
    with db.transaction() as session:
        do_report_progress(session, assignment, text=note,
                           actor=liaison(session, UNIT), now=NOW)
    sent = body(texts_to()[0], twilio_http)
    assert sent.startswith("【奉化8718】您的诉求")
    assert sent.count("【") == 1 and sent.count("】") == 1  # the system's signature only
    for leaked in ("http", "example.cn", "www", "refund-fh", "13912345678", "87654321"):
        assert leaked not in sent
    assert texts.LINK_REMOVED in sent and texts.PHONE_REMOVED in sent
    assert "热线0574-88888718" in sent  # the hotline's own number stays


def test_progress_notes_text_once_an_hour_with_the_latest(jobs: Any, twilio_http: Any) -> None:
    _case, assignment = routed()
    for n in range(22):  # 22 notes in 30 seconds
        with db.transaction() as session:
            do_report_progress(session, assignment, text=f"第{n + 1}次进展",
                               actor=liaison(session, UNIT),
                               now=NOW + timedelta(seconds=n))
    first, waiting = texts_to()
    assert first.next_try_at == NOW
    assert waiting.next_try_at == NOW + outbox.HOUR
    assert waiting.params["replies"][0]["text"] == "第22次进展"
    with db.transaction() as session:  # nothing else is due before the hour
        assert outbox.due_messages(session, now=NOW + timedelta(minutes=59)) == [first.id]
    with db.transaction() as session:
        assert waiting.id in outbox.due_messages(session, now=NOW + outbox.HOUR)
    assert "第22次进展" in body(waiting, twilio_http)


def test_one_phone_gets_at_most_five_texts_an_hour(jobs: Any) -> None:
    for n in range(7):
        _case, assignment = routed(at=NOW + timedelta(minutes=n))
        with db.transaction() as session:
            do_reply(session, assignment, text="已办结", actor=liaison(session, UNIT),
                     now=NOW + timedelta(minutes=n, seconds=30), calendar=CALENDAR)
    due = sorted(m.next_try_at for m in texts_to())  # type: ignore[type-var]
    assert len(due) == 7
    in_first_hour = [t for t in due if t < NOW + outbox.HOUR]
    assert len(in_first_hour) == outbox.MAX_PER_RECIPIENT_PER_HOUR
    for later in due[len(in_first_hour):]:
        window = [t for t in due if later - outbox.HOUR < t <= later]
        assert len(window) <= outbox.MAX_PER_RECIPIENT_PER_HOUR


def _merge(later_phone: str) -> tuple[Case, Case]:
    with db.transaction() as session:
        earlier = new_case(session, NOW, contact_phone=MOBILE, category="factor")
        later = new_case(session, NOW + timedelta(minutes=5), contact_phone=later_phone,
                         category="factor")
        if later_phone != MOBILE:
            from cases.enterprises import register_enterprise

            company = register_enterprise(session, name="宁波甲机械有限公司",
                                          now=NOW).enterprise
            earlier.enterprise_id = later.enterprise_id = company.id
            session.flush()
        duplicates.merge(session, later.id, into_id=earlier.id, reason="同一诉求",
                         actor=OPERATOR, now=NOW + timedelta(minutes=10))
        return earlier, later


def test_a_merge_text_names_the_earlier_case_only_to_its_own_contact(
        jobs: Any, twilio_http: Any) -> None:
    earlier, later = _merge(OTHER)
    (message,) = texts_to(OTHER)
    sent = body(message, twilio_http)
    assert earlier.number not in sent and later.number in sent
    assert "已并入一并办理" in sent


def test_a_merge_text_to_the_same_contact_names_the_earlier_case(
        jobs: Any, twilio_http: Any) -> None:
    earlier, _later = _merge(MOBILE)
    merged = [m for m in texts_to() if m.kind == "case_merged"]
    assert earlier.number in body(merged[0], twilio_http)


def test_unlinking_texts_that_the_case_stands_on_its_own(jobs: Any, twilio_http: Any) -> None:
    _earlier, later = _merge(MOBILE)
    with db.transaction() as session:
        duplicates.unlink(session, later.id, reason="内容不同", actor=OPERATOR,
                          now=NOW + timedelta(minutes=20))
    (unlinked,) = [m for m in texts_to() if m.kind == "case_unlinked"]
    sent = body(unlinked, twilio_http)
    assert f"您的诉求（编号{later.number}）已取消并单，恢复单独办理" in sent
