"""Reconciliation against real Redis: lost jobs re-enqueued once, Twilio's list read exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from core.db import db, utcnow
from core.queues import TRANSCRIPTION
from ivr.calllog import upsert_recording
from ivr.models import Call, Recording
from tests.transcription.support import RecordingTwilioHttp, configure
from transcription import twilio_sync
from transcription.dispatch import TranscriptionPolicy, enqueue_transcription
from transcription.models import SyncMark
from transcription.recovery import reconcile, requeue_recording
from transcription.statuses import TranscriptionStatus as S

SID = "AC" + "1" * 32
LATER = timedelta(hours=1)


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str, tmp_path: Path) -> dict[str, Any]:
    # No model needed: nothing here decodes; awaiting_model rows stay waiting.
    return configure(app_config, redis_url=redis_url, model=tmp_path / "no-model")


def add(sid: str, *, status: str = S.PENDING, url: str = "https://api.twilio.com/R/x",
        attempts: int = 0, **values: Any) -> Recording:
    with db.transaction() as session:
        recording = upsert_recording(session, sid, now=utcnow(), call_sid="CA" + sid[2:],
                                     url=url, duration="10", status="completed").recording
        recording.transcription_status = status
        recording.attempts = attempts
        for key, value in values.items():
            setattr(recording, key, value)
        session.flush()
        session.expunge(recording)
    return recording


def fresh(sid: str) -> Recording:
    db.session.remove()
    return db.session.scalars(select(Recording).where(Recording.recording_sid == sid)).one()


def queued_ids(redis_conn: Any) -> list[str]:
    return Queue(TRANSCRIPTION, connection=redis_conn).job_ids


def run(app: Any, redis_conn: Any, now: datetime, twilio: Any = None) -> Any:
    session = db.session()
    report = reconcile(session, redis_conn, app.config, now=now, twilio=twilio)
    session.commit()
    return report


def test_a_pending_row_whose_enqueue_was_lost_is_enqueued_once(app, redis_conn) -> None:
    add("RE1")
    assert run(app, redis_conn, utcnow()).requeued == []  # within the grace period
    report = run(app, redis_conn, utcnow() + LATER)
    assert report.requeued == ["RE1"]
    assert queued_ids(redis_conn) == ["transcribe-RE1"]
    recording = fresh("RE1")
    assert (recording.transcription_status, recording.transcription_job_id) == (
        S.QUEUED, "transcribe-RE1")
    assert run(app, redis_conn, utcnow() + 2 * LATER).requeued == []  # the job is live
    assert queued_ids(redis_conn) == ["transcribe-RE1"]


def test_a_live_job_is_never_duplicated(app, redis_conn) -> None:
    recording = add("RE1", status=S.TRANSCRIBING, transcription_job_id="transcribe-RE1")
    enqueue_transcription(redis_conn, recording.id, "RE1")
    assert run(app, redis_conn, utcnow() + LATER).requeued == []
    assert queued_ids(redis_conn) == ["transcribe-RE1"]


def test_ids_move_on_when_the_old_job_is_dead(app, redis_conn) -> None:
    policy = TranscriptionPolicy(retry_intervals=())
    recording = add("RE1", status=S.AWAITING_MODEL, transcription_job_id="transcribe-RE1")
    session = db.session
    # The old id is free (e.g. Redis lost it): reused.
    assert requeue_recording(session, redis_conn, recording, policy=policy) == "transcribe-RE1"
    assert requeue_recording(session, redis_conn, fresh("RE1"), policy=policy) is None  # live
    job = Job.fetch("transcribe-RE1", connection=redis_conn)
    Queue(TRANSCRIPTION, connection=redis_conn).remove(job)
    FailedJobRegistry(TRANSCRIPTION, connection=redis_conn).add(job, exc_string="boom")
    job.set_status("failed")
    # A failed job holds the id: a fresh one, and the old one leaves the failed list.
    assert requeue_recording(session, redis_conn, fresh("RE1"), policy=policy) == \
        "transcribe-RE1-r1"
    assert "transcribe-RE1" not in FailedJobRegistry(TRANSCRIPTION, connection=redis_conn)
    assert fresh("RE1").transcription_job_id == "transcribe-RE1-r1"


def test_failures_are_retried_only_when_retryable_and_due(app, redis_conn) -> None:
    now = utcnow()
    add("RE1", status=S.FAILED, transcription_retry_at=now - timedelta(minutes=1), attempts=2)
    add("RE2", status=S.FAILED, transcription_retry_at=now + timedelta(hours=2), attempts=2)
    add("RE3", status=S.FAILED, transcription_error="unreadable audio", attempts=1)
    assert run(app, redis_conn, now).requeued == ["RE1"]


def test_a_recording_that_keeps_failing_is_given_up_visibly(app, redis_conn) -> None:
    add("RE1", status=S.TRANSCRIBING, attempts=8, transcription_error="worker killed")
    report = run(app, redis_conn, utcnow() + LATER)
    assert (report.gave_up, report.requeued) == (["RE1"], [])
    recording = fresh("RE1")
    assert recording.transcription_status == S.FAILED
    assert "已尝试 8 次" in (recording.transcription_error or "")
    assert recording.transcription_retry_at is None


def test_a_recording_twilio_did_not_keep_is_failed_not_fetched(app, redis_conn) -> None:
    recording = add("RE1")
    with db.transaction() as session:
        session.get(Recording, recording.id).status = "absent"  # type: ignore[union-attr]
    run(app, redis_conn, utcnow() + LATER)
    assert fresh("RE1").transcription_status == S.FAILED
    assert queued_ids(redis_conn) == []


def twilio_page(*recordings: dict[str, Any]) -> dict[str, Any]:
    return {"recordings": list(recordings), "next_page_uri": None, "page": 0, "page_size": 50,
            "uri": f"/2010-04-01/Accounts/{SID}/Recordings.json"}


def remote(sid: str, call_sid: str, status: str = "completed") -> dict[str, Any]:
    return {"sid": sid, "call_sid": call_sid, "status": status, "duration": "17",
            "account_sid": SID, "uri": f"/2010-04-01/Accounts/{SID}/Recordings/{sid}.json",
            "date_created": "Tue, 24 Nov 2026 01:58:00 +0000"}


def test_recordings_whose_callback_never_came_are_added_from_twilio(app, redis_conn) -> None:
    add("REknown", status=S.DONE)
    http = RecordingTwilioHttp([(200, twilio_page(
        remote("REknown", "CAknown"), remote("REmissed", "CAmissed"),
        remote("REbusy", "CAbusy", status="processing")))])
    client = twilio_sync.make_client(app.config, http_client=http)
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

    report = run(app, redis_conn, now, twilio=client)

    assert http.requests == [{
        "method": "GET",
        "url": f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings.json",
        "params": {"DateCreated>": "2026-11-23T02:00:00Z"},  # first check: one day back
        "data": None,
        "auth": (SID, app.config["TWILIO_AUTH_TOKEN"]),
    }]
    assert report.added_from_twilio == ["REmissed"] and report.requeued == ["REmissed"]
    missed = fresh("REmissed")
    assert missed.url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/REmissed"
    assert (missed.duration, missed.status, missed.transcription_status) == (
        17, "completed", S.QUEUED)
    assert db.session.get(Call, missed.call_id).call_sid == "CAmissed"  # type: ignore[union-attr]
    assert queued_ids(redis_conn) == ["transcribe-REmissed"]
    assert db.session.scalars(select(Recording.recording_sid).order_by(Recording.id)).all() == [
        "REknown", "REmissed"]  # one still processing at Twilio is left for next time
    assert db.session.get(SyncMark, twilio_sync.MARK_NAME).at == now  # type: ignore[union-attr]

    run(app, redis_conn, now + timedelta(minutes=5), twilio=client)
    assert http.requests[1]["params"] == {"DateCreated>": "2026-11-24T01:50:00Z"}  # overlap
    assert queued_ids(redis_conn) == ["transcribe-REmissed"]


def test_twilio_being_down_does_not_stop_the_database_pass(app, redis_conn) -> None:
    add("RE1")
    http = RecordingTwilioHttp([(500, {"code": 20500, "message": "Internal error"})])
    report = run(app, redis_conn, utcnow() + LATER,
                 twilio=twilio_sync.make_client(app.config, http_client=http))
    assert report.twilio_error and report.requeued == ["RE1"]
    assert db.session.get(SyncMark, twilio_sync.MARK_NAME) is None  # the window is kept


def test_a_retry_nobody_will_run_is_replaced(app, redis_conn) -> None:
    # A worker without --with-scheduler never enqueues scheduled retries.
    recording = add("RE1", status=S.QUEUED, transcription_job_id="transcribe-RE1")
    queue = Queue(TRANSCRIPTION, connection=redis_conn)
    job = queue.enqueue_at(utcnow() - timedelta(hours=1), "transcription.jobs."
                           "transcribe_recording", recording.id, job_id="transcribe-RE1")
    assert job.get_status() == "scheduled"
    assert run(app, redis_conn, utcnow() + LATER).requeued == ["RE1"]
    assert queued_ids(redis_conn) == ["transcribe-RE1-r1"]
    assert Job.fetch("transcribe-RE1", connection=redis_conn).get_status() == "canceled"


def test_reconciliation_is_a_periodic_job() -> None:
    from transcription.recovery import reconcile_recordings
    from workers.periodic import PERIODIC

    entry = next(p for p in PERIODIC if p.name == "transcription-reconcile")
    assert entry.func is reconcile_recordings and entry.interval <= 60


def test_an_orphan_is_found_in_minutes_not_ten(app, redis_conn) -> None:
    """A row left mid-transcription by a dead job, no job in RQ: requeued after 6 minutes."""
    add("RE1", status=S.TRANSCRIBING, transcription_job_id="transcribe-RE1")
    assert run(app, redis_conn, utcnow() + timedelta(minutes=1)).requeued == []
    assert run(app, redis_conn, utcnow() + timedelta(minutes=6)).requeued == ["RE1"]


def test_a_retry_stranded_for_four_minutes_is_replaced(app, redis_conn) -> None:
    recording = add("RE1", status=S.QUEUED, transcription_job_id="transcribe-RE1")
    Queue(TRANSCRIPTION, connection=redis_conn).enqueue_at(
        utcnow() - timedelta(minutes=4), "transcription.jobs.transcribe_recording",
        recording.id, job_id="transcribe-RE1")
    assert run(app, redis_conn, utcnow() + timedelta(minutes=6)).requeued == ["RE1"]


def test_an_operator_can_retry_or_redo_a_recording(app, redis_conn) -> None:
    from transcription.recovery import retry_transcription

    recording = add("RE1", status=S.DONE, transcription_job_id="transcribe-RE1")
    session = db.session  # the scoped session: ``fresh`` replaces the one behind it
    assert retry_transcription(session, redis_conn, recording.id, app.config) is None
    jid = retry_transcription(session, redis_conn, recording.id, app.config, force=True)
    assert jid == "transcribe-RE1" and fresh("RE1").transcription_status == S.QUEUED
    assert Job.fetch(jid, connection=redis_conn).kwargs == {"force": True}
    with pytest.raises(LookupError):
        retry_transcription(session, redis_conn, 999, app.config)


def test_a_disk_full_failure_is_retried_within_a_minute_of_space_coming_back(
        app, redis_conn, monkeypatch) -> None:
    import errno

    from transcription import jobs, resources

    recording = add("REdisk", status=S.QUEUED, attempts=9)  # past TRANSCRIPTION_MAX_ATTEMPTS
    full = OSError(errno.ENOSPC, "No space left on device")
    try:
        raise RuntimeError("storing the download failed") from full
    except RuntimeError as exc:
        jobs._note_failure(recording.id, exc, job=None)
    failed = fresh("REdisk")
    assert failed.transcription_status == S.FAILED
    assert resources.cause_of(failed.transcription_error) == resources.DISK_FULL
    # Retried on a back-off of minutes, not hours …
    assert failed.transcription_retry_at - utcnow() <= resources.RESOURCE_BACKOFF_CAP
    # … and at the first pass once the disk has room, whatever the retry time says.
    monkeypatch.setattr(resources, "free_bytes", lambda _path: 0)
    assert run(app, redis_conn, utcnow()).requeued == []
    monkeypatch.setattr(resources, "free_bytes", lambda _path: 10 ** 12)
    report = run(app, redis_conn, utcnow())
    assert report.requeued == ["REdisk"] and report.gave_up == []
    assert fresh("REdisk").transcription_status == S.QUEUED


def test_an_unreachable_media_host_backs_off_for_minutes_only(app) -> None:
    import requests

    from transcription import jobs, resources

    recording = add("REhost", status=S.QUEUED, attempts=7)
    jobs._note_failure(recording.id, requests.ConnectionError("connection refused"), job=None)
    failed = fresh("REhost")
    assert resources.cause_of(failed.transcription_error) == resources.MEDIA_HOST
    assert failed.transcription_retry_at - utcnow() <= resources.RESOURCE_BACKOFF_CAP
