"""Poisoned call-log entries: checked at the edge, isolated by the drain, dead-lettered."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cases.case_models import Case, VoicemailReservation
from core.db import db
from ivr.eventlog import DEAD_KEY, PENDING_KEY, LogEntry, dead_letters, drain
from ivr.models import Call, Recording
from tests.ivr.test_eventlog import phone_for, redis_app, the_call, worker_app

__all__ = ["redis_app", "worker_app"]  # fixtures used by the tests below

POISONED_DURATIONS = ["²", "9" * 5000, "3000000000"]


def status(post: Any, sid: str, duration: str) -> Any:
    return post("/ivr/status", {"CallSid": sid, "CallStatus": "completed",
                                "CallDuration": duration, "From": "+8613900000009",
                                "To": "+8657488888718", "Direction": "inbound"})


@pytest.mark.parametrize("duration", POISONED_DURATIONS, ids=["unicode-digit", "5000-digits",
                                                             "int-overflow"])
def test_a_poisoned_duration_stops_neither_the_log_nor_the_voicemail(
        redis_app, worker_app, clock, voicemail_wav, duration):
    from ivr.jobs import drain_call_log

    clock.set_local("2026-11-27 03:00")  # after hours: straight to voicemail
    phone = phone_for(redis_app)
    before = phone.call(keys=["2"])
    assert status(redis_app, "CA" + "p" * 32, duration).status_code == 204
    voicemail = phone.call(keys=["4"], voicemail=voicemail_wav)
    after = phone.call(keys=["3"])
    drain_call_log()
    for outcome in (before, voicemail, after):
        assert the_call(outcome.call_sid).status == "completed"
    poisoned = the_call("CA" + "p" * 32)
    assert poisoned.status == "completed"
    assert poisoned.duration in (None, 24 * 3600)
    reservation = db.session.scalars(select(VoicemailReservation)).one()
    case = db.session.scalars(select(Case)).one()
    assert reservation.case_id == case.id
    assert case.number == reservation.case_number


def test_a_poisoned_recording_duration_is_clamped(redis_app, worker_app):
    from ivr.jobs import drain_call_log

    redis_app("/ivr/recording", {"CallSid": "CA" + "r" * 32, "RecordingSid": "RE" + "r" * 32,
                                 "RecordingUrl": "https://api.twilio.com/x",
                                 "RecordingStatus": "completed", "RecordingDuration": "9" * 50})
    drain_call_log()
    db.session.expire_all()
    assert db.session.scalars(select(Recording)).one().duration == 24 * 3600


def raw_entry(sid: str, **changes: Any) -> str:
    entry = LogEntry(call_sid=sid, from_number="+8613900000001", to_number="+8657488888718",
                     flow="hotline", at="2026-11-24T02:00:00+00:00")
    data = {**entry.__dict__, **changes}
    return json.dumps(data)


def test_the_drain_dead_letters_bad_entries_and_writes_the_rest(redis_app, redis_conn):
    good = ["CA" + str(i) * 32 for i in range(3)]
    redis_conn.rpush(PENDING_KEY, raw_entry(good[0]))
    redis_conn.rpush(PENDING_KEY, raw_entry("CA" + "b" * 32, at="not a time"))
    redis_conn.rpush(PENDING_KEY, raw_entry(good[1]))
    redis_conn.rpush(PENDING_KEY, raw_entry("CA" + "c" * 32, recording={"RecordingUrl": "x"}))
    redis_conn.rpush(PENDING_KEY, b"{not json")
    redis_conn.rpush(PENDING_KEY, raw_entry(good[2]))
    assert drain(redis_conn, db.transaction) == 3
    for sid in good:
        the_call(sid)
    total, letters = dead_letters(redis_conn)
    assert total == 3
    assert {letter.call_sid for letter in letters} == {"", "CA" + "b" * 32, "CA" + "c" * 32}
    assert any("Invalid isoformat" in letter.error for letter in letters)
    assert any("KeyError" in letter.error for letter in letters)
    # A second drain finds nothing left to retry: the batch is done.
    assert drain(redis_conn, db.transaction) == 0
    assert redis_conn.llen(DEAD_KEY) == 3


def test_dead_letters_are_listed_requeued_and_cleared_by_flask_jobs(redis_app, redis_conn):
    redis_conn.rpush(PENDING_KEY, raw_entry("CA" + "b" * 32, at="not a time"))
    drain(redis_conn, db.transaction)
    app = redis_app.app
    listed = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "dead letters 1" in listed.output, listed.output
    shown = app.test_cli_runner().invoke(args=["jobs", "dead-letters"])
    assert "CA" + "b" * 32 in shown.output and "Invalid isoformat" in shown.output
    requeued = app.test_cli_runner().invoke(args=["jobs", "dead-letters", "--requeue"])
    assert "requeued: 1" in requeued.output
    assert redis_conn.llen(PENDING_KEY) == 1 and redis_conn.llen(DEAD_KEY) == 0
    drain(redis_conn, db.transaction)
    cleared = app.test_cli_runner().invoke(args=["jobs", "dead-letters", "--clear"])
    assert "cleared: 1" in cleared.output


def test_reserved_voicemails_are_filed_even_when_the_drain_fails(
        redis_app, worker_app, clock, voicemail_wav, monkeypatch):
    from ivr import jobs as calllog_jobs

    clock.set_local("2026-11-27 03:00")
    phone_for(redis_app).call(keys=["4"], voicemail=voicemail_wav)

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("drain broke")

    monkeypatch.setattr(calllog_jobs, "drain", broken)
    with pytest.raises(RuntimeError):
        calllog_jobs.drain_call_log()
    db.session.expire_all()
    reservation = db.session.scalars(select(VoicemailReservation)).one()
    assert reservation.case_id is not None


@pytest.mark.parametrize("async_log", [True, False], ids=["redis", "synchronous"])
def test_a_fallback_voicemail_is_filed_without_a_transcript(
        app_config, redis_url, redis_conn, twilio_post_factory, clock, async_log):
    """Twilio's fallback URL records without a reservation; no worker transcribes it."""
    from core import jobs as context
    from ivr.jobs import drain_call_log

    app_config["REDIS_URL"] = redis_url
    app_config["CALL_LOG_ASYNC"] = async_log
    app_config["ON_RECORDING_COMPLETED"] = lambda _recording: None  # no transcription
    post = twilio_post_factory(app_config)
    context.set_app(post.app)
    try:
        sid = "CA" + "f" * 32
        body = post("/ivr/fallback", {"CallSid": sid, "From": "+8613900000002"}).get_data(True)
        assert "<Record" in body
        post("/ivr/status", {"CallSid": sid, "CallStatus": "completed", "CallDuration": "30",
                             "From": "+8613900000002", "To": "+8657488888718"})
        post("/ivr/recording", {"CallSid": sid, "RecordingSid": "RE" + "f" * 32,
                                "RecordingUrl": "https://api.twilio.com/r",
                                "RecordingStatus": "completed", "RecordingDuration": "12"})
        drain_call_log()
        db.session.expire_all()
        assert db.session.scalars(select(Case)).first() is None  # within the grace period
        clock.now += timedelta(minutes=2)
        drain_call_log()
        db.session.expire_all()
        case = db.session.scalars(select(Case)).one()
        assert case.contact_phone == "+8613900000002"
        assert case.recording_id == db.session.scalars(select(Recording.id)).one()
        assert db.session.scalars(select(Call)).one().call_sid == sid
    finally:
        context.set_app(None)


def test_a_failed_push_then_a_write_elsewhere_still_logs_the_step(
        app_config, redis_url, redis_conn, twilio_post_factory, clock, monkeypatch):
    """Redis fails in the request while another process writes: the synchronous path must
    not fail on SQLite's stale read snapshot ("database is locked") and apologise."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy import text

    app_config["REDIS_URL"] = redis_url
    post = twilio_post_factory(app_config)
    queue = post.app.extensions["ivr_runtime"].call_log
    sid = "CA" + "w" * 32

    def push(entry: LogEntry) -> None:
        if entry.call_sid == sid and entry.events and entry.events[0]["kind"] == "input":
            with db.engine.begin() as other:  # a worker commits meanwhile
                other.execute(text(
                    "INSERT INTO calls (call_sid, direction, from_number, to_number, status, "
                    "flow, reached_operator, started_at) VALUES ('CAother', 'inbound', '', '', "
                    "'ringing', 'hotline', false, :at)"), {"at": clock.now})
            raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(queue, "push", push)
    params = {"CallSid": sid, "From": "+8613900000003", "To": "+8657488888718"}
    post("/ivr/voice", {**params, "CallStatus": "ringing"})
    body = post("/ivr/flow/hotline/main_menu?event=gather", {**params, "Digits": "4"}
                ).get_data(as_text=True)
    assert "抱歉" not in body, body
    assert "service_desk" in the_call(sid).path


def _ringing(post: Any, sid: str) -> None:
    assert post("/ivr/voice", {"CallSid": sid, "CallStatus": "ringing", "From": "+8613900000009",
                               "To": "+8657488888718", "Direction": "inbound"}
                ).status_code == 200


@pytest.mark.parametrize("duration", ["86401", "99999"])
def test_durations_just_over_a_day_are_clamped_through_redis(redis_app, worker_app, duration):
    """Five digits like 86400 itself, but over it: clamped."""
    from ivr.jobs import drain_call_log

    sid = "CA" + "q" * 32
    _ringing(redis_app, sid)
    assert status(redis_app, sid, duration).status_code == 204
    drain_call_log()
    assert the_call(sid).duration == 24 * 3600


@pytest.mark.parametrize("duration", ["86401", "99999"])
def test_durations_just_over_a_day_are_clamped_without_redis(twilio_post, duration):
    sid = "CA" + "s" * 32
    _ringing(twilio_post, sid)
    assert status(twilio_post, sid, duration).status_code == 204
    assert the_call(sid).duration == 24 * 3600
