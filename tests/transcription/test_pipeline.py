"""The pipeline and its job, in-process: download → store → decode → transcript → case.

The voicemails are one spoken word (fixture ``word``): the pipeline is under test, not
recognition (test_engine.py), and decoding is the slow part.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cases.case_models import Case, CaseRecording
from cases.voicemail import EMPTY_TRANSCRIPT
from core import jobs as context
from core.db import db
from ivr.calllog import upsert_recording
from ivr.models import Recording
from tests.transcription.support import RecordingTwilioHttp, configure
from transcription import jobs as transcription_jobs
from transcription.jobs import transcribe_recording
from transcription.models import Transcript
from transcription.pipeline import RetryLater, transcript_for
from transcription.statuses import TranscriptionStatus as S
from transcription.statuses import label


@pytest.fixture
def app_config(app_config: dict[str, Any], ko_model_dir: Path) -> dict[str, Any]:
    return configure(app_config, redis_url=None, model=ko_model_dir)


@pytest.fixture
def job_app(app: Any, ko_engine: Any) -> Any:
    """The app the job finds through ``core.jobs`` (as a worker's would be)."""
    context.set_app(app)
    yield app
    context.set_app(None)


def new_recording(url: str, sid: str = "RE" + "a" * 32, duration: int = 5) -> int:
    with db.transaction() as session:
        update = upsert_recording(session, sid, now=db_now(), call_sid="CA" + "b" * 32,
                                  url=url, duration=str(duration), status="completed")
        session.flush()
        return update.recording.id


def db_now() -> Any:
    from core.db import utcnow

    return utcnow()


def reload(recording_id: int) -> Recording:
    db.session.remove()
    recording = db.session.get(Recording, recording_id)
    assert recording is not None
    return recording


def serve(http_server: Any, path: str, data: bytes, content_type: str = "audio/x-wav") -> str:
    return http_server.script(path, http_server.reply(
        body=data, headers=(("Content-Type", content_type),)))


def test_voicemail_is_stored_transcribed_and_filed(job_app, http_server, word) -> None:
    data = word.pcm8k.read_bytes()
    recording_id = new_recording(serve(http_server, "/Recordings/RE1", data))

    result = transcribe_recording(recording_id)

    recording = reload(recording_id)
    assert (result["status"], recording.transcription_status) == (S.DONE, S.DONE)
    assert label(recording.transcription_status) == "已完成"
    assert recording.audio_key == f"{recording.created_at:%Y-%m}/{recording.recording_sid}.wav"
    stored = Path(job_app.config["RECORDINGS_DIR"]) / recording.audio_key
    assert stored.read_bytes() == data
    assert recording.sha256 == hashlib.sha256(data).hexdigest()
    assert recording.size_bytes == len(data)
    assert recording.attempts == 1 and recording.transcription_error is None

    transcript = transcript_for(db.session, recording_id)
    assert transcript is not None and transcript.text and not transcript.is_empty
    assert transcript.model_name == "model" and transcript.source_format == "wav-pcm"
    assert transcript.duration == pytest.approx(word.duration, abs=0.05)
    starts = [w.start for w in transcript.word_list]
    assert starts == sorted(starts) and all(w.start <= w.end for w in transcript.word_list)
    assert 0 < transcript.confidence <= 1 and transcript.rtf > 0

    link = db.session.scalars(select(CaseRecording)).one()
    case = db.session.get(Case, link.case_id)
    assert case is not None and case.recording_id == recording_id
    assert (link.transcript, case.description) == (transcript.text, transcript.text)


def test_a_second_run_changes_nothing(job_app, http_server, word) -> None:
    recording_id = new_recording(serve(http_server, "/Recordings/RE1",
                                       word.pcm8k.read_bytes()))
    transcribe_recording(recording_id)
    again = transcribe_recording(recording_id)
    assert again["detail"] == "nothing to do"
    assert len(http_server.seen) == 1
    assert db.session.scalar(select(func.count()).select_from(Transcript)) == 1
    assert reload(recording_id).attempts == 1


def test_mulaw_recording_goes_through(job_app, http_server, word) -> None:
    recording_id = new_recording(serve(http_server, "/Recordings/RE1",
                                       word.mulaw8k.read_bytes()))
    assert transcribe_recording(recording_id)["status"] == S.DONE
    transcript = transcript_for(db.session, recording_id)
    assert transcript is not None and transcript.source_format == "wav-mulaw"


def test_silence_gives_an_empty_transcript_flagged_as_such(job_app, http_server,
                                                           silence_wav) -> None:
    recording_id = new_recording(serve(http_server, "/Recordings/RE1", silence_wav.read_bytes()))
    assert transcribe_recording(recording_id)["detail"] == "empty"
    transcript = transcript_for(db.session, recording_id)
    assert transcript is not None and transcript.is_empty and transcript.text == ""
    assert db.session.scalars(select(Case)).one().description == EMPTY_TRANSCRIPT


def test_unreadable_audio_fails_with_its_reason_and_is_not_retried(job_app, http_server) -> None:
    garbage = b"RIFF\x00\x10\x00\x00WAVE" + b"garbage" * 40  # a WAV header, then nonsense
    recording_id = new_recording(serve(http_server, "/Recordings/RE1", garbage))
    result = transcribe_recording(recording_id)  # returns: no exception, so no RQ retry
    recording = reload(recording_id)
    assert result["status"] == recording.transcription_status == S.FAILED
    assert "unreadable audio" in (recording.transcription_error or "")
    assert recording.transcription_retry_at is None  # the reconciliation leaves it alone
    assert recording.local_path  # kept for a person to listen to
    assert transcript_for(db.session, recording_id) is None


def test_a_refused_host_fails_without_any_request(job_app) -> None:
    recording_id = new_recording("https://evil.example.com/Recordings/RE1")
    assert transcribe_recording(recording_id)["status"] == S.FAILED
    recording = reload(recording_id)
    assert "evil.example.com" in (recording.transcription_error or "")
    assert recording.local_path is None


def test_a_retryable_download_failure_is_raised_for_the_queue(job_app, http_server) -> None:
    url = http_server.script("/Recordings/RE1", http_server.reply(status=503))
    recording_id = new_recording(url)
    with pytest.raises(RetryLater):
        transcribe_recording(recording_id)
    recording = reload(recording_id)
    # Not inside an RQ job with retries left: failed, and the reconciliation retries later.
    assert recording.transcription_status == S.FAILED
    assert "HTTP 503" in (recording.transcription_error or "")
    assert recording.transcription_retry_at is not None


def test_without_a_model_the_recording_is_kept_awaiting_it(app, app_config, tmp_path,
                                                           http_server, word) -> None:
    from app import create_app

    # ``app`` emptied the database; this second app differs only in its model path.
    app_config["VOSK_MODEL_PATH"] = str(tmp_path / "models" / "missing")
    app = create_app(app_config)
    context.set_app(app)
    try:
        with app.app_context():
            recording_id = new_recording(serve(http_server, "/Recordings/RE1",
                                               word.pcm8k.read_bytes()))
            result = transcribe_recording(recording_id)
            recording = reload(recording_id)
    finally:
        context.set_app(None)
    assert result["status"] == recording.transcription_status == S.AWAITING_MODEL
    assert label(S.AWAITING_MODEL) == "等待模型"
    assert "未安装语音模型" in (recording.transcription_error or "")
    stored = Path(app_config["RECORDINGS_DIR"]) / (recording.audio_key or "?")
    assert stored.is_file()  # stored before anything else


def test_stored_recording_is_deleted_from_twilio_only_when_configured(app_config) -> None:
    http = RecordingTwilioHttp([(204, "")])
    recording = Recording(recording_sid="RE" + "c" * 32,
                          url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE9")
    assert transcription_jobs._remote_deleter(app_config) is None  # default: off

    app_config.update(RECORDINGS_DELETE_FROM_TWILIO=True, TWILIO_HTTP_CLIENT=http)
    delete = transcription_jobs._remote_deleter(app_config)
    assert delete is not None
    delete(recording)
    sid = app_config["TWILIO_ACCOUNT_SID"]
    assert [(r["method"], r["url"]) for r in http.requests] == [
        ("DELETE", f"https://api.twilio.com/2010-04-01/Accounts/{sid}/Recordings/"
                   f"{recording.recording_sid}.json")]
    assert http.requests[0]["auth"] == (sid, app_config["TWILIO_AUTH_TOKEN"])

    delete(Recording(recording_sid="RE2", url="http://127.0.0.1:5000/Recordings/RE2"))
    assert len(http.requests) == 1  # the local terminal phone is not Twilio
