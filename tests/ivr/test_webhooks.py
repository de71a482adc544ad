"""Webhooks: idempotent, out-of-order safe, and never a 500 for a caller."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import func, select

from core.db import db
from ivr.models import Call, CallEvent, Recording

CALL = {"CallSid": "CA200", "From": "+8613800138000", "To": "+8657488888718",
        "AccountSid": "AC1"}


def status(twilio_post, value: str, **extra: str):
    return twilio_post("/ivr/status", {**CALL, "CallStatus": value, **extra})


def recording_callback(twilio_post, sid: str = "RE1", status_value: str = "completed"):
    return twilio_post("/ivr/recording", {
        "AccountSid": "AC1", "CallSid": "CA200", "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{sid}",
        "RecordingStatus": status_value, "RecordingDuration": "14",
    })


def one_call() -> Call:
    return db.session.scalars(select(Call).where(Call.call_sid == "CA200")).one()


def test_incoming_call_is_logged(twilio_post):
    twilio_post("/ivr/voice", {**CALL, "CallStatus": "ringing"})
    call = one_call()
    assert (call.from_number, call.status, call.direction) == ("+8613800138000", "ringing",
                                                               "inbound")
    assert call.path == ["greeting", "caller_check", "main_menu"]


def test_repeated_incoming_request_creates_one_call(twilio_post):
    twilio_post("/ivr/voice", {**CALL, "CallStatus": "ringing"})
    twilio_post("/ivr/voice", {**CALL, "CallStatus": "ringing"})
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1


def test_completed_status_sets_duration_and_end(twilio_post):
    status(twilio_post, "in-progress")
    status(twilio_post, "completed", CallDuration="63")
    call = one_call()
    assert (call.status, call.duration) == ("completed", 63)
    assert call.ended_at is not None


def test_late_ringing_never_overwrites_completed(twilio_post):
    status(twilio_post, "completed", CallDuration="63")
    response = status(twilio_post, "ringing")
    assert response.status_code == 204
    assert one_call().status == "completed"


def test_repeated_completed_callback_is_logged_once(twilio_post):
    status(twilio_post, "completed", CallDuration="63")
    status(twilio_post, "completed", CallDuration="63")
    call = one_call()
    kinds = [(e.kind, e.input) for e in call.events]
    assert kinds.count(("status", "completed")) == 1


def test_status_callback_without_status_is_a_400(twilio_post):
    response = twilio_post("/ivr/status", CALL)
    assert response.status_code == 400
    assert b"CallStatus" in response.data


def test_recording_callback_creates_the_recording_once(twilio_post, app):
    seen: list[str] = []
    app.extensions["ivr_runtime"].on_recording_completed = lambda r: seen.append(r.recording_sid)
    recording_callback(twilio_post)
    recording_callback(twilio_post)
    rows = db.session.scalars(select(Recording)).all()
    assert [(r.recording_sid, r.status, r.duration) for r in rows] == [("RE1", "completed", 14)]
    assert seen == ["RE1"]


def test_recording_callback_before_the_call_is_known_keeps_both(twilio_post):
    recording_callback(twilio_post)
    recording = db.session.scalars(select(Recording)).one()
    assert recording.call.call_sid == "CA200"


def test_recording_without_sid_is_a_400(twilio_post):
    assert twilio_post("/ivr/recording", {"CallSid": "CA200"}).status_code == 400


def test_missing_callsid_gets_an_apology_and_voicemail(twilio_post):
    response = twilio_post("/ivr/voice", {"From": "+86"})
    doc = etree.fromstring(response.data)
    assert response.status_code == 200
    assert "抱歉" in doc.xpath("string(/Response/Say[1])")
    assert doc.xpath("/Response/Record")


def test_unknown_node_gets_an_apology_and_voicemail(twilio_post):
    response = twilio_post("/ivr/flow/hotline/no_such_node?event=gather", {**CALL, "Digits": "1"})
    assert response.status_code == 200
    assert etree.fromstring(response.data).xpath("/Response/Record")


def test_garbage_counters_are_ignored(twilio_post):
    response = twilio_post("/ivr/flow/hotline/main_menu?event=timeout&ni=abc&inv=-3", CALL)
    doc = etree.fromstring(response.data)
    assert doc.xpath("/Response/Gather/@action")[0].endswith("event=gather&ni=1")


def test_database_error_gets_an_apology(twilio_post, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from ivr import service

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is down"))

    monkeypatch.setattr(service.calllog, "get_or_create_call", broken)
    response = twilio_post("/ivr/voice", {**CALL, "CallStatus": "ringing"})
    assert response.status_code == 200
    assert etree.fromstring(response.data).xpath("/Response/Record")


def test_fallback_answers_without_touching_the_database(twilio_post, monkeypatch):
    def no_database(*_args, **_kwargs):
        raise AssertionError("fallback touched the database")

    monkeypatch.setattr(db.session, "execute", no_database)
    monkeypatch.setattr(db.session, "scalars", no_database)
    response = twilio_post("/ivr/fallback", {**CALL, "ErrorCode": "11200"})
    doc = etree.fromstring(response.data)
    assert doc.xpath("/Response/Record/@recordingStatusCallback")


def test_key_presses_are_call_events(twilio_post):
    twilio_post("/ivr/voice", {**CALL, "CallStatus": "ringing"})
    twilio_post("/ivr/flow/hotline/main_menu?event=gather", {**CALL, "Digits": "7"})
    events = db.session.scalars(select(CallEvent).where(CallEvent.kind == "invalid")).all()
    assert [(e.node, e.input) for e in events] == [("main_menu", "7")]


def test_a_caller_who_hits_an_error_leaves_a_message_and_hears_goodbye(phone, monkeypatch,
                                                                        voicemail_wav):
    from sqlalchemy.exc import OperationalError

    from ivr import service

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is down"))

    monkeypatch.setattr(service, "flow_step", broken)
    outcome = phone.call(keys=["2"], voicemail=voicemail_wav)
    assert outcome.recording_sid
    assert outcome.heard[-1] == "感谢您的来电，再见。"
    assert outcome.reason == "hung up by the hotline"
    assert ("https://hotline.example.test/ivr/fallback?recorded=1", 200) in outcome.requests


def test_apologies_while_the_database_is_down_are_logged_when_it_returns(twilio_post,
                                                                         monkeypatch):
    from sqlalchemy.exc import OperationalError

    from ivr import service

    real = service.calllog.get_or_create_call

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(service.calllog, "get_or_create_call", broken)
    down = {**CALL, "CallSid": "CA" + "d" * 32, "From": "+8613900000077"}
    assert etree.fromstring(twilio_post("/ivr/voice", {**down, "CallStatus": "ringing"})
                            .data).xpath("/Response/Record")
    assert db.session.scalars(select(Call).where(Call.call_sid == down["CallSid"])).all() == []
    monkeypatch.setattr(service.calllog, "get_or_create_call", real)  # the database is back
    twilio_post("/ivr/voice", {**CALL, "CallStatus": "ringing"})
    db.session.expire_all()
    call = db.session.scalars(select(Call).where(Call.call_sid == down["CallSid"])).one()
    assert call.from_number == "+8613900000077"
    (event,) = db.session.scalars(select(CallEvent).where(CallEvent.call_id == call.id)).all()
    assert event.kind == "apology" and "OperationalError" in (event.detail or "")
