"""Hand-offs from web requests to the queues; a Redis outage never loses the row."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job, JobStatus

from core.db import db
from core.queues import TRANSCRIPTION, connect_fast, job_id, queue
from ivr.models import Recording
from transcription.jobs import transcribe_recording
from transcription.pipeline import mark_queued

log = logging.getLogger(__name__)
# A job that ended in one of these may be replaced under the same id (finished ones may not).
DEAD_STATUSES = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})
# How RQ names the job (``Job.func_name``), to recognise transcription jobs already queued.
TRANSCRIBE_JOB = f"{transcribe_recording.__module__}.{transcribe_recording.__qualname__}"


@dataclass(frozen=True)
class TranscriptionPolicy:
    """Timeout and retries of transcription jobs."""

    # Download retries (404 until Twilio publishes, 5xx, timeouts); needs --with-scheduler.
    retry_intervals: tuple[int, ...] = (30, 120, 600)
    # Decoding runs at RTF ≈ 0.3: allow 3× the audio plus download and start-up.
    base_timeout: int = 180
    seconds_per_audio_second: int = 3
    max_timeout: int = 3600
    default_duration: int = 120

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TranscriptionPolicy:
        intervals = config.get("TRANSCRIPTION_RETRY_INTERVALS")
        return cls(
            retry_intervals=tuple(intervals) if intervals is not None else cls.retry_intervals,
            default_duration=int(config.get("VOICEMAIL_MAX_SECONDS") or cls.default_duration),
        )

    def timeout(self, duration: int | None) -> int:
        seconds = duration if duration and duration > 0 else self.default_duration
        return min(self.base_timeout + self.seconds_per_audio_second * seconds, self.max_timeout)

    def retry(self) -> Retry | None:
        if not self.retry_intervals:
            return None
        return Retry(max=len(self.retry_intervals), interval=list(self.retry_intervals))


def transcription_job_id(recording_sid: str, attempt: int = 0) -> str:
    """``transcribe-<sid>``; re-enqueues after a dead job get ``-r<attempt>``."""
    if attempt:
        return job_id("transcribe", recording_sid, f"r{attempt}")
    return job_id("transcribe", recording_sid)


def enqueue_transcription(
    connection: Any,
    recording_id: int,
    recording_sid: str,
    *,
    duration: int | None = None,
    policy: TranscriptionPolicy | None = None,
    jid: str | None = None,
    force: bool = False,
) -> bool:
    """Enqueue one transcription job per recording; True if a new job was enqueued.

    A job that is still queued, running, scheduled or finished under the same id is left
    alone, so duplicate callbacks enqueue nothing new.
    """
    policy = policy or TranscriptionPolicy()
    jid = jid or transcription_job_id(recording_sid)
    existing = Job.fetch(jid, connection=connection) if Job.exists(jid, connection) else None
    if existing is not None and existing.get_status(refresh=True) not in DEAD_STATUSES:
        return False
    queue(TRANSCRIPTION, connection).enqueue(
        transcribe_recording, recording_id, force=force, job_id=jid,
        description=f"transcribe {recording_sid}",
        job_timeout=policy.timeout(duration), retry=policy.retry(),
        result_ttl=86400, failure_ttl=30 * 86400,
    )
    return True


def recording_dispatcher(config: Mapping[str, Any]) -> Callable[[Recording], None]:
    """Called after commit for each newly completed recording."""
    # One client (and its connection pool) per URL, not a new connection per recording.
    clients: dict[str, Any] = {}

    def dispatch(recording: Recording) -> None:
        url = config.get("REDIS_URL")
        if url and url not in clients:
            clients[url] = connect_fast(url)  # runs in web requests too
        connection = clients.get(url) if url else None
        if connection is None:
            log.warning("REDIS_URL not set: recording %s waits for reconciliation",
                        recording.recording_sid)
            return
        try:
            enqueued = enqueue_transcription(
                connection, recording.id, recording.recording_sid,
                duration=recording.duration, policy=TranscriptionPolicy.from_config(config),
            )
        except RedisError as exc:
            # The row is committed; the periodic reconciliation will enqueue it later.
            log.error("could not enqueue transcription of %s: %s", recording.recording_sid, exc)
            return
        if enqueued:
            _mark_queued(recording.id, transcription_job_id(recording.recording_sid))

    return dispatch


def _mark_queued(recording_id: int, jid: str) -> None:

    try:
        mark_queued(db.session, recording_id, jid)
        db.session.commit()
    except Exception:  # status bookkeeping only: the job runs either way
        db.session.rollback()
        log.exception("could not mark recording %s queued", recording_id)
