"""An operator-answered call leaves a recording, and 登记诉求 files a case linked to both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from cases.call_log import call_log
from cases.case_models import Case, CaseRecording
from cases.voicemail import transcript_ready
from core.db import db
from ivr.models import Call, Recording
from tests.cases.factories import local

RECORDING_SID = "RE" + "5" * 32


def operator_call(phone: Any, clock: Any, twilio_post: Any, desk: Any) -> Call:
    clock.set_local("2026-11-24 10:00")
    desk.operator("duty")
    outcome = phone.call(keys=["3", "4"])  # 专项服务 → 法律法务
    params = {"CallSid": outcome.call_sid, "RecordingSid": RECORDING_SID,
              "RecordingUrl": "https://api.twilio.com/rec/" + RECORDING_SID,
              "RecordingStatus": "completed", "RecordingDuration": "95",
              "RecordingSource": "DialVerb"}
    for _ in range(2):  # Twilio retries: one recording
        assert twilio_post("/ivr/recording?kind=operator", params).status_code == 204
    forged = twilio_post("/ivr/recording?kind=operator", params, signature="bad")
    assert forged.status_code == 403
    db.session.expire_all()
    return db.session.scalars(select(Call).where(Call.call_sid == outcome.call_sid)).one()


def test_the_operator_recording_is_stored_once_and_is_no_voicemail(
        phone: Any, clock: Any, twilio_post: Any, desk: Any) -> None:
    call = operator_call(phone, clock, twilio_post, desk)
    recording = db.session.scalars(select(Recording)).one()
    assert (recording.kind, recording.call_id, recording.duration) == ("operator", call.id, 95)
    session = db.session()
    assert call_log(session).unfiled_voicemails(session, completed_after=local("2026-11-24 00:00"),
                                         completed_before=local("2026-11-25 00:00"),
                                         limit=10) == []
    assert transcript_ready(session, recording.id, "我想咨询合同纠纷", 0.9,
                            now=local("2026-11-24 10:30")) is None
    session.commit()
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_file_a_case_from_the_call_page(client: Any, phone: Any, clock: Any, twilio_post: Any,
                                        accounts: Any, sign_in: Any, desk: Any) -> None:
    call = operator_call(phone, clock, twilio_post, desk)
    sign_in(accounts.operator)
    page = client.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "登记诉求" in page and f"/console/calls/{call.id}/case" in page
    response = client.post(f"/console/calls/{call.id}/case",
                           data={"description": "企业咨询设备采购合同纠纷如何处理",
                                 "contact_name": "王先生"})
    assert response.status_code == 303
    session = db.session()
    case = session.scalars(select(Case)).one()
    recording = session.scalars(select(Recording)).one()
    assert (case.channel, case.call_id, case.recording_id) == (
        "hotline_operator", call.id, recording.id)
    assert (case.category, case.subcategory, case.contact_phone) == (
        "special", "legal", "+8613800138000")
    suggestions = [s.department_name for s in case.suggestions]
    # The transcript is kept for the record; it neither rewrites nor re-routes the case.
    transcript_ready(session, recording.id, "录音里说的是用电增容问题", 0.9,
                     now=local("2026-11-24 10:30"))
    session.commit()
    session.expire_all()
    case = session.scalars(select(Case)).one()
    link = session.scalars(select(CaseRecording)).one()
    assert (link.case_id, link.call_id, link.transcript) == (
        case.id, call.id, "录音里说的是用电增容问题")
    assert case.description == "企业咨询设备采购合同纠纷如何处理"
    assert [s.department_name for s in case.suggestions] == suggestions
    empty = client.post(f"/console/calls/{call.id}/case", data={"description": ""})
    assert empty.status_code == 422


def test_a_transcript_made_before_filing_is_kept_on_the_case(
        client: Any, phone: Any, clock: Any, twilio_post: Any, accounts: Any,
        sign_in: Any, desk: Any) -> None:
    from transcription.models import Transcript

    call = operator_call(phone, clock, twilio_post, desk)
    session = db.session()
    recording = session.scalars(select(Recording)).one()
    session.add(Transcript(recording_id=recording.id, text="咨询合同纠纷", words=[],
                           confidence=0.8))
    transcript_ready(session, recording.id, "咨询合同纠纷", 0.8, now=local("2026-11-24 10:20"))
    session.commit()
    sign_in(accounts.operator)
    client.post(f"/console/calls/{call.id}/case", data={"description": "合同纠纷咨询"})
    session.expire_all()
    link = session.scalars(select(CaseRecording)).one()
    assert (link.transcript, link.confidence) == ("咨询合同纠纷", 0.8)


def test_the_console_records_the_new_sub_areas(client: Any, accounts: Any,
                                               sign_in: Any) -> None:
    sign_in(accounts.operator)
    form = client.get("/console/cases/new").get_data(as_text=True)
    assert "降本减负" in form and "涉企公共服务" in form
    created = client.post("/console/cases/new", data={
        "channel": "window", "description": "咨询商标注册", "category": "special",
        "subcategory": "brand"})
    assert created.status_code == 303
    case = db.session.scalars(select(Case)).one()
    assert (case.category, case.subcategory) == ("special", "brand")
    wrong = client.post("/console/cases/new", data={
        "channel": "window", "description": "咨询", "category": "policy",
        "subcategory": "brand"})
    assert wrong.status_code == 422


def test_a_recorded_operator_call_is_not_listed_as_a_voicemail(
        client: Any, phone: Any, clock: Any, twilio_post: Any, accounts: Any,
        sign_in: Any, desk: Any) -> None:
    call = operator_call(phone, clock, twilio_post, desk)
    sign_in(accounts.operator)
    listed = client.get("/console/calls?from=2026-11-24&to=2026-11-24").get_data(as_text=True)
    assert f"/console/calls/{call.id}\"" in listed
    voicemails = client.get(
        "/console/calls?from=2026-11-24&to=2026-11-24&voicemail=1").get_data(as_text=True)
    assert f"/console/calls/{call.id}\"" not in voicemails
