"""Enqueueing transcription from the recording callback, against a real Redis."""

from __future__ import annotations

from rq import Queue

from core.queues import TRANSCRIPTION, job_id
from tests.transcription.support import drain_call_log
from transcription.dispatch import enqueue_transcription, recording_dispatcher, transcription_job_id


def test_job_id_is_valid_for_rq():
    assert job_id("transcribe", "RE12:ab/c") == "transcribe-RE12_ab_c"


def test_duplicate_enqueue_gives_one_job(redis_conn):
    assert enqueue_transcription(redis_conn, 1, "RE123") is True
    assert enqueue_transcription(redis_conn, 1, "RE123") is False
    assert Queue(TRANSCRIPTION, connection=redis_conn).job_ids == [transcription_job_id("RE123")]


def test_redis_down_is_logged_not_raised(caplog):
    class FakeRecording:
        id, recording_sid, duration = 1, "RE9", None

    dispatch = recording_dispatcher({"REDIS_URL": "redis://127.0.0.1:1/0"})
    dispatch(FakeRecording())  # must not raise: the row is already committed
    assert "could not enqueue transcription of RE9" in caplog.text


def test_recording_callback_enqueues_through_the_app(app_config, redis_url, redis_conn,
                                                     twilio_post_factory):
    app_config["REDIS_URL"] = redis_url
    post = twilio_post_factory(app_config)
    post("/ivr/recording", {"CallSid": "CA1", "RecordingSid": "RE77", "RecordingStatus":
                            "completed", "RecordingUrl": "https://api.twilio.com/x/RE77"})
    post("/ivr/recording", {"CallSid": "CA1", "RecordingSid": "RE77", "RecordingStatus":
                            "completed", "RecordingUrl": "https://api.twilio.com/x/RE77"})
    drain_call_log(post.app)
    assert Queue(TRANSCRIPTION, connection=redis_conn).job_ids == ["transcribe-RE77"]
