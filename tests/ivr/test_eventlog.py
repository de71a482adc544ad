"""Menu steps logged through a real Redis and drained into the call log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db import db
from ivr.eventlog import PENDING_KEY, PROCESSING_KEY, LogEntry, drain
from ivr.models import Call, Recording
from ivr.speech import spoken_case_number


class TickingClock:
    """Time moves on between webhook requests, as on a real call (events sort by time)."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def __call__(self) -> Any:
        self.clock.now += timedelta(milliseconds=50)
        return self.clock.now


@pytest.fixture
def redis_app(app_config, redis_url, redis_conn, twilio_post_factory, clock) -> Any:
    app_config["REDIS_URL"] = redis_url
    app_config["CLOCK"] = TickingClock(clock)
    return twilio_post_factory(app_config)


@pytest.fixture
def worker_app(redis_app: Any) -> Iterator[Any]:
    """The app the drain job runs in, as in a worker process."""
    from core import jobs as context

    context.set_app(redis_app.app)
    yield redis_app.app
    context.set_app(None)


def phone_for(post: Any) -> Any:
    from ivr.phone import InProcessTransport, TerminalPhone
    from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

    return TerminalPhone(
        transport=InProcessTransport(post.app),
        base_url=PUBLIC_BASE_URL,
        auth_token=AUTH_TOKEN,
        account_sid="AC1",
        echo=lambda _l: None,
    )


def the_call(sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalars(select(Call).where(Call.call_sid == sid)).one()


def test_menu_steps_wait_in_redis_until_drained(redis_app, redis_conn):
    outcome = phone_for(redis_app).call(keys=["1", "5"])
    assert redis_conn.llen(PENDING_KEY) > 0
    assert db.session.scalars(select(Call)).first() is None
    drain(redis_conn, db.transaction)
    call = the_call(outcome.call_sid)
    assert call.path[:5] == ["greeting", "caller_check", "main_menu", "factor_menu", "service_desk"]
    assert (call.category, call.subcategory) == ("factor", "finance")
    assert redis_conn.llen(PENDING_KEY) == 0


def test_drain_schedules_one_job_per_burst(redis_app, redis_conn):
    from rq import Queue

    phone_for(redis_app).call(keys=["1", "5"])
    jobs = Queue("default", connection=redis_conn).jobs
    assert [j.func_name for j in jobs] == ["ivr.jobs.drain_call_log"]


def _entry(sid: str) -> LogEntry:
    return LogEntry(call_sid=sid, from_number="+8613900000001", to_number="+8657488888718",
                    flow="hotline", at="2026-11-24T02:00:00+00:00")


def test_an_entry_pushed_after_a_drain_ran_schedules_the_next_drain(app, redis_conn):
    """A drain that ran early in the push window must not leave later entries waiting for
    the periodic drain (a second voicemail's transcription waited for it)."""
    from rq import Queue

    from ivr.eventlog import CallLogQueue
    from ivr.jobs import drain_call_log

    log_queue = CallLogQueue(redis_conn, drain_queue="default", drain_job=drain_call_log)
    jobs = Queue("default", connection=redis_conn)
    log_queue.push(_entry("CA1"))
    assert jobs.count == 1
    jobs.empty()  # a worker took the drain job …
    assert drain(redis_conn, db.transaction) == 1  # … and ran it at once
    log_queue.push(_entry("CA2"))  # within the same few seconds
    assert jobs.count == 1


def test_an_entry_pushed_while_the_lock_was_held_is_drained_by_its_holder(app, redis_conn,
                                                                          monkeypatch):
    """An entry pushed after the holder looked for the last time, whose own drain found the
    lock still taken and returned at once: the holder looks again when it lets go."""
    from ivr.eventlog import CallLogQueue
    from ivr.jobs import drain_call_log

    log_queue = CallLogQueue(redis_conn, drain_queue="default", drain_job=drain_call_log)
    log_queue.push(_entry("CA1"))
    real_lock = redis_conn.lock
    late: list[int] = []

    class LateEntryAtRelease:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.lock = real_lock(*args, **kwargs)

        def acquire(self) -> bool:
            return bool(self.lock.acquire())

        def release(self) -> None:
            if not late:  # the holder is done looking but still holds the lock
                log_queue.push(_entry("CA2"))
                late.append(drain(redis_conn, db.transaction))
            self.lock.release()

    monkeypatch.setattr(redis_conn, "lock", LateEntryAtRelease)
    assert drain(redis_conn, db.transaction) == 2
    assert late == [0]  # the other drain found the lock taken
    assert redis_conn.llen(PENDING_KEY) == 0
    db.session.expire_all()
    assert {c.call_sid for c in db.session.scalars(select(Call))} == {"CA1", "CA2"}


def test_voicemail_category_comes_from_the_signed_url(redis_app, worker_app, clock,
                                                     voicemail_wav):
    from cases.case_models import Case
    from ivr.jobs import drain_call_log

    clock.set_local("2026-11-27 03:00")
    phone_for(redis_app).call(keys=["1", "2"], voicemail=voicemail_wav)
    drain_call_log()
    db.session.expire_all()
    case = db.session.scalars(select(Case)).one()
    assert (case.category, case.subcategory) == ("factor", "utilities")


def test_redis_down_writes_steps_synchronously(app_config, twilio_post_factory):
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    outcome = phone_for(twilio_post_factory(app_config)).call(keys=["1", "5"])
    assert "factor_menu" in the_call(outcome.call_sid).path


def test_entries_left_in_processing_by_a_killed_drain_are_written(redis_app, redis_conn):
    outcome = phone_for(redis_app).call(keys=["4"])
    while redis_conn.lmove(PENDING_KEY, PROCESSING_KEY, "LEFT", "RIGHT"):
        pass  # as if a drain had moved them and died before committing
    drain(redis_conn, db.transaction)
    assert "service_desk" in the_call(outcome.call_sid).path
    assert redis_conn.llen(PROCESSING_KEY) == 0


def test_a_second_drain_backs_off_while_one_holds_the_lock(redis_app, redis_conn):
    phone_for(redis_app).call(keys=["4"])
    lock = redis_conn.lock("hotline:calllog:drain-lock", timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert drain(redis_conn, db.transaction) == 0
    finally:
        lock.release()
    assert drain(redis_conn, db.transaction) > 0


def test_malformed_entry_is_dead_lettered_not_fatal(redis_app, redis_conn):
    redis_conn.rpush(PENDING_KEY, "{not json")
    redis_conn.rpush(
        PENDING_KEY,
        LogEntry(
            "CA9",
            "+86",
            "+86",
            "hotline",
            "2026-11-27T01:00:00+00:00",
            [{"kind": "enter", "node": "main_menu", "input": None, "detail": None}],
        ).to_json(),
    )
    assert drain(redis_conn, db.transaction) == 1
    assert the_call("CA9").path == ["main_menu"]
    assert redis_conn.llen("hotline:calllog:dead") == 1


def test_status_callbacks_are_applied_by_the_drain(redis_app, redis_conn):
    outcome = phone_for(redis_app).call(keys=["4"])
    drain(redis_conn, db.transaction)
    call = the_call(outcome.call_sid)
    assert call.status == "completed"
    assert call.duration is not None


def test_late_ringing_through_the_drain_never_overwrites_completed(redis_app, redis_conn):
    params = {"CallSid": "CA300", "From": "+8613800138000", "To": "+8657488888718"}
    redis_app("/ivr/status", {**params, "CallStatus": "completed", "CallDuration": "40"})
    redis_app("/ivr/status", {**params, "CallStatus": "ringing"})
    drain(redis_conn, db.transaction)
    assert (the_call("CA300").status, the_call("CA300").duration) == ("completed", 40)


def test_answered_operator_is_recorded_through_the_drain(redis_app, redis_conn, clock):
    from ivr.switchboard import Switchboard
    from tests.queue_desk import Desk

    phone = phone_for(redis_app)
    phone.switchboard = Switchboard(clock, phone.signed_post, echo=lambda _l: None)
    Desk(redis_app.app, phone.switchboard).operator("duty")
    outcome = phone.call(keys=["2"])
    drain(redis_conn, db.transaction)
    call = the_call(outcome.call_sid)
    assert call.reached_operator and call.operator_answer_seconds is not None


def test_first_request_of_a_call_is_logged_by_the_drain(redis_app, redis_conn):
    redis_app("/ivr/voice", {"CallSid": "CA400", "From": "+8613800138000",
                             "To": "+8657488888718", "CallStatus": "ringing",
                             "Direction": "inbound"})
    assert db.session.scalars(select(Call).where(Call.call_sid == "CA400")).first() is None
    drain(redis_conn, db.transaction)
    call = the_call("CA400")
    assert (call.status, call.direction, call.from_number) == ("ringing", "inbound",
                                                               "+8613800138000")
    assert call.path[:2] == ["greeting", "caller_check"]


def test_recording_callback_is_stored_by_the_drain(redis_app, redis_conn):
    redis_app("/ivr/recording", {"CallSid": "CA401", "RecordingSid": "RE401",
                                 "RecordingStatus": "completed", "RecordingDuration": "12",
                                 "RecordingUrl": "https://api.twilio.com/rec/RE401"})
    assert db.session.scalars(select(Recording)).first() is None
    drain(redis_conn, db.transaction)
    recording = db.session.scalars(select(Recording)).one()
    assert (recording.recording_sid, recording.status, recording.duration,
            recording.call.call_sid) == ("RE401", "completed", 12, "CA401")


def test_drain_hands_completed_recordings_over_once(redis_app, redis_conn):
    params = {"CallSid": "CA402", "RecordingSid": "RE402", "RecordingStatus": "completed",
              "RecordingUrl": "https://api.twilio.com/rec/RE402"}
    redis_app("/ivr/recording", params)
    redis_app("/ivr/recording", params)  # Twilio retried the callback
    handed: list[str] = []
    drain(redis_conn, db.transaction, lambda recs: handed.extend(r.recording_sid for r in recs))
    assert handed == ["RE402"]


def test_drain_job_enqueues_the_transcription(redis_app, worker_app, redis_conn):
    from rq.job import Job

    from ivr.jobs import drain_call_log
    from transcription.dispatch import transcription_job_id

    redis_app("/ivr/recording", {"CallSid": "CA403", "RecordingSid": "RE403",
                                 "RecordingStatus": "completed",
                                 "RecordingUrl": "https://api.twilio.com/rec/RE403"})
    drain_call_log()
    assert Job.exists(transcription_job_id("RE403"), connection=redis_conn)


def test_voicemail_number_is_read_back_before_the_case_is_filed(redis_app, worker_app, clock,
                                                                voicemail_wav):
    from cases.case_models import Case
    from ivr.jobs import drain_call_log

    clock.set_local("2026-11-27 03:00")
    outcome = phone_for(redis_app).call(keys=["2"], voicemail=voicemail_wav)
    assert db.session.scalars(select(Case)).first() is None
    drain_call_log()
    db.session.expire_all()
    case = db.session.scalars(select(Case)).one()
    assert f"您的诉求编号是：{spoken_case_number(case.number)}" in " ".join(outcome.heard)
    assert db.session.get(Recording, case.recording_id).call.call_sid == outcome.call_sid


def test_redis_down_files_the_voicemail_in_the_request(app_config, twilio_post_factory, clock,
                                                       voicemail_wav):
    from cases.case_models import Case

    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    clock.set_local("2026-11-27 03:00")
    outcome = phone_for(twilio_post_factory(app_config)).call(keys=["2"],
                                                               voicemail=voicemail_wav)
    case = db.session.scalars(select(Case)).one()
    assert f"您的诉求编号是：{spoken_case_number(case.number)}" in " ".join(outcome.heard)


def test_apologies_with_redis_wait_in_the_call_log_until_the_database_returns(
        redis_app, redis_conn, monkeypatch):
    """With Redis, an apology answered while the database refuses connections goes to the
    Redis call log (not the process); drains fail while the database is away, keep the
    entry, and the first one after it returns writes it, once (ivr.apologies)."""
    from lxml import etree
    from sqlalchemy.exc import OperationalError

    from ivr import eventlog, service
    from ivr.models import CallEvent

    def refused(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(service, "incoming_call", refused)
    sid = "CA" + "e" * 32
    answer = redis_app("/ivr/voice", {"AccountSid": "AC1", "CallSid": sid, "CallStatus": "ringing",
                                      "From": "+8613900000078", "To": "+8657488888718"})
    assert etree.fromstring(answer.data).xpath("/Response/Record")  # the apology, a voicemail
    assert redis_conn.llen(PENDING_KEY) == 1
    assert len(redis_app.app.extensions["ivr_runtime"].apologies) == 0  # not kept in-process
    real_apply = eventlog.apply_entry
    monkeypatch.setattr(eventlog, "apply_entry", refused)  # the drain meets the outage too
    with pytest.raises(OperationalError):
        drain(redis_conn, db.transaction)
    assert redis_conn.llen(PROCESSING_KEY) == 1  # kept for the next drain
    monkeypatch.setattr(eventlog, "apply_entry", real_apply)  # the database is back
    assert drain(redis_conn, db.transaction) == 1
    call = the_call(sid)
    assert call.from_number == "+8613900000078"
    (event,) = db.session.scalars(select(CallEvent).where(CallEvent.call_id == call.id)).all()
    assert event.kind == "apology" and "OperationalError" in (event.detail or "")
    assert drain(redis_conn, db.transaction) == 0
    assert db.session.scalars(select(CallEvent).where(CallEvent.call_id == call.id)).all() == [
        event]
