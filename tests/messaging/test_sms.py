"""Text messages: receipts for voicemails and answers, in Chinese, never inside the call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rq import Queue
from sqlalchemy import select

from cases.vocab import ReplyKind
from core.db import db
from core.queues import DEFAULT
from messaging import jobs as sms_jobs
from messaging import texts
from messaging.models import SmsMessage
from messaging.sms import send
from tests.cases.factories import local
from tests.followup.support import MOBILE, answered_case

FILED = "【奉化8718】您的诉求已受理，编号2611270001。查询进度请致电0574-88888718按9。"


def messages() -> list[SmsMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def leave_voicemail(phone: Any, clock: Any, wav: Path, caller: str) -> None:
    clock.set_local("2026-11-27 22:00")  # Friday night: the hotline takes a message
    phone.call(from_number=caller, keys=["2"], voicemail=wav)


def test_voicemail_receipt_is_texted_after_the_call(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any, voicemail_wav: Path) -> None:
    leave_voicemail(phone, clock, voicemail_wav, "+8613800138000")
    assert twilio_http.requests == []  # nothing sent while the caller was on the line
    (message,) = messages()
    assert (message.kind, message.to, message.status) == (
        "voicemail_filed", "+8613800138000", "pending")
    assert sms_jobs.send_sms(message.id).startswith("SM")
    (sent,) = twilio_http.messages()
    assert sent.data == {"To": "+8613800138000", "From": "+8610690000", "Body": FILED,
                         "StatusCallback": "https://hotline.example.test/ivr/sms/status"
                                           f"?message={message.id}"}
    (message,) = messages()
    assert (message.status, message.body) == ("sent", FILED)
    assert sms_jobs.send_sms(message.id) == "not pending"  # a repeated job sends nothing


def test_landline_callers_get_no_text(jobs: Any, clock: Any, phone: Any,
                                      voicemail_wav: Path) -> None:
    leave_voicemail(phone, clock, voicemail_wav, "+8657487654321")
    assert messages() == []


def test_answer_is_texted(jobs: Any, twilio_http: Any) -> None:
    answered_case(local("2026-11-24 10:00"))
    (message,) = messages()
    sms_jobs.send_sms(message.id)
    assert twilio_http.messages()[0].data["Body"] == (
        "【奉化8718】您的诉求（编号2611240001）已办理答复。区经信局答复：已答复企业。我们将电话回访，"
        "请您对办理结果进行评价。查询请致电0574-88888718按9。")


def test_signature_and_hotline_number_are_configurable(jobs: Any, twilio_http: Any) -> None:
    jobs.config.update({"SMS_SIGNATURE": "【8718平台】", "HOTLINE_DISPLAY_NUMBER": "88888718"})
    answered_case(local("2026-11-24 10:00"))
    sms_jobs.send_sms(messages()[0].id)
    body = twilio_http.messages()[0].data["Body"]
    assert body.startswith("【8718平台】") and body.endswith("请致电88888718按9。")


def test_failures_are_logged_and_retried_then_given_up(
        jobs: Any, clock: Any, twilio_http: Any, caplog: Any) -> None:
    answered_case(local("2026-11-24 10:00"))
    (message,) = messages()
    twilio_http.failures.append((503, {"status": 503, "message": "Service Unavailable"}))
    assert sms_jobs.send_sms(message.id) == "retry"
    assert f"SMS {message.id} to +8613800138000 failed" in caplog.text
    (message,) = messages()
    assert (message.status, message.attempts) == ("pending", 1)
    clock.now = message.next_try_at
    twilio_http.failures.append((400, {"status": 400, "code": 21610, "message": "unsubscribed"}))
    assert sms_jobs.send_sms(message.id) == "failed"
    assert messages()[0].status == "failed"


def test_without_a_sender_texts_are_skipped_not_lost(jobs: Any, twilio_http: Any) -> None:
    jobs.config["SMS_SENDER"] = ""
    answered_case(local("2026-11-24 10:00"))
    assert sms_jobs.send_sms(messages()[0].id) == "skipped"
    assert twilio_http.requests == [] and messages()[0].status == "skipped"


def test_a_text_is_handed_to_its_job_only_when_the_transaction_commits(
        jobs: Any, redis_conn: Any, redis_url: str, clock: Any) -> None:
    jobs.config["REDIS_URL"] = redis_url
    default = Queue(DEFAULT, connection=redis_conn)
    session = db.session()
    send(session, kind="voicemail_filed", to=MOBILE, params={"number": "2611240001"},
         dedupe_key="test:rolled-back", now=clock())
    session.rollback()
    assert default.get_job_ids() == [] and messages() == []
    message = send(session, kind="voicemail_filed", to=MOBILE, params={"number": "2611240001"},
                   dedupe_key="test:committed", now=clock())
    assert message is not None and default.get_job_ids() == []  # not before the commit
    session.commit()
    assert default.get_job_ids() == [f"sms-{message.id}"]
    assert default.fetch_job(f"sms-{message.id}").func == sms_jobs.send_sms


def test_reply_kinds_in_a_summary_are_the_case_domains() -> None:
    assert (texts.PROGRESS, texts.EXPLANATION) == (ReplyKind.PROGRESS, ReplyKind.EXPLANATION)
