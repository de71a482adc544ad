"""Hand-offs from web requests to the queues; a Redis outage never loses the row."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from redis.exceptions import RedisError
from rq.job import Job, JobStatus

from ivr.models import Recording
from workers.queues import TRANSCRIPTION, connect, job_id, queue

log = logging.getLogger(__name__)
TRANSCRIBE_JOB = "workers.transcription_jobs.transcribe_recording"


def transcription_job_id(recording_sid: str) -> str:
    return job_id("transcribe", recording_sid)


def enqueue_transcription(connection: Any, recording_id: int, recording_sid: str) -> bool:
    """Enqueue one transcription job per recording; True if a new job was enqueued.

    A job that is still queued, running or finished under the same id is left alone, so
    duplicate callbacks enqueue nothing new.
    """
    jid = transcription_job_id(recording_sid)
    existing = Job.fetch(jid, connection=connection) if Job.exists(jid, connection) else None
    if existing is not None and existing.get_status(refresh=True) not in {
        JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED,
    }:
        return False
    queue(TRANSCRIPTION, connection).enqueue(
        TRANSCRIBE_JOB, recording_id, job_id=jid, description=f"transcribe {recording_sid}",
        job_timeout=600, result_ttl=86400, failure_ttl=30 * 86400,
    )
    return True


def recording_dispatcher(config: Mapping[str, Any]) -> Callable[[Recording], None]:
    """Called after commit for each newly completed recording."""

    def dispatch(recording: Recording) -> None:
        url = config.get("REDIS_URL")
        if not url:
            log.warning("REDIS_URL not set: recording %s waits for reconciliation",
                        recording.recording_sid)
            return
        try:
            enqueue_transcription(connect(url), recording.id, recording.recording_sid)
        except RedisError as exc:
            # The row is committed; the periodic reconciliation will enqueue it later.
            log.error("could not enqueue transcription of %s: %s", recording.recording_sid, exc)

    return dispatch
