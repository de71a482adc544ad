"""The pipeline with recordings in S3 (SeaweedFS): stored whole, retried through an outage."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from core import jobs as context
from core.db import db
from ivr.calllog import upsert_recording
from ivr.models import Recording
from recordings.config import open_store
from tests.deploy.seaweedfs import TcpProxy
from tests.transcription.support import configure
from transcription.jobs import transcribe_recording
from transcription.pipeline import PipelineSettings, RetryLater, store_audio
from transcription.statuses import TranscriptionStatus as S


@pytest.fixture
def proxy(seaweed: Any) -> Any:
    """The S3 endpoint as the nodes see it, through a proxy the test can break."""
    relay = TcpProxy(seaweed.ports["s3.port"])
    yield relay
    relay.close()


@pytest.fixture
def app_config(app_config: dict[str, Any], ko_model_dir: Path, seaweed: Any, s3_url: str,
               proxy: Any) -> dict[str, Any]:
    config = configure(app_config, redis_url=None, model=ko_model_dir)
    config.update(seaweed.settings(), RECORDINGS_URL=s3_url,
                  RECORDINGS_S3_ENDPOINT=proxy.endpoint, RECORDINGS_S3_TIMEOUT=2)
    return config


@pytest.fixture
def job_app(app: Any, ko_engine: Any) -> Any:
    context.set_app(app)
    yield app
    context.set_app(None)


def _recording(url: str) -> int:
    from core.db import utcnow

    with db.transaction() as session:
        update = upsert_recording(session, "RE" + "5" * 32, now=utcnow(),
                                  call_sid="CA" + "6" * 32, url=url, duration="5",
                                  status="completed")
        session.flush()
        return update.recording.id


def _reload(recording_id: int) -> Recording:
    db.session.remove()
    found = db.session.get(Recording, recording_id)
    assert found is not None
    return found


def test_s3_outage_during_a_job_is_retried_and_leaves_nothing_half_written(
        job_app: Any, http_server: Any, speech: Any, proxy: Any, tmp_path: Path) -> None:
    data = speech.pcm8k.read_bytes()
    url = http_server.script("/Recordings/RE5", http_server.reply(
        body=data, headers=(("Content-Type", "audio/x-wav"),)))
    recording_id = _recording(url)
    store = open_store(job_app.config)

    proxy.cut_after = 20_000  # the object store goes away in the middle of the upload
    with pytest.raises(RetryLater, match="录音存储不可用"):
        transcribe_recording(recording_id)
    failed = _reload(recording_id)
    assert failed.transcription_status == S.FAILED and failed.transcription_retry_at
    assert "recording store unavailable" in (failed.transcription_error or "")
    assert failed.audio_key is None and failed.sha256 is None
    assert list(store.keys()) == []  # no half-written object under any key

    proxy.cut_after = None  # the store is back: the retry stores and transcribes
    assert transcribe_recording(recording_id)["status"] == S.DONE
    done = _reload(recording_id)
    assert list(store.keys()) == [done.audio_key]
    stored = store.head(done.audio_key or "")
    assert stored is not None and stored.size == len(data)
    assert stored.sha256 == done.sha256 == hashlib.sha256(data).hexdigest()
    assert store.checksum(done.audio_key or "") == done.sha256

    # Once stored, a retry reads the audio back from S3 (checked), not from Twilio again.
    fetched = len(http_server.seen)
    settings = PipelineSettings.from_config(job_app.config)
    copy = store_audio(db.session(), done, settings, tmp_path)
    assert copy.read_bytes() == data and len(http_server.seen) == fetched
    assert not any(Path(job_app.config["RECORDINGS_DIR"]).glob("**/*.wav"))  # no local copy

