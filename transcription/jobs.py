"""The transcription job run by RQ workers: a recording id in, the pipeline, commits.

``transcribe_recording`` runs in a forked work horse and finds the speech model the
worker parent preloaded (:mod:`transcription.worker_model`); the periodic
``transcription.recovery.reconcile_recordings`` makes sure no recording is left without a
live job.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from redis import Redis
from rq import get_current_job
from rq.job import Job
from sqlalchemy import select

from core.clock import clock_of
from core.db import db, utcnow
from core.jobs import get_app
from core.queues import connect
from ivr.models import Recording
from transcription import pipeline, resources, twilio_sync
from transcription.download import is_twilio_host
from transcription.pipeline import PipelineSettings, RetryLater

log = logging.getLogger(__name__)



def _connection(job: Job | None, config: Mapping[str, Any]) -> Redis:
    return job.connection if job is not None else connect(config["REDIS_URL"])


def _remote_deleter(config: Mapping[str, Any]) -> Callable[[Recording], None] | None:
    """Delete the recording from Twilio once stored, when configured to (default off)."""
    if not config.get("RECORDINGS_DELETE_FROM_TWILIO"):
        return None

    def delete(recording: Recording) -> None:
        client = twilio_sync.make_client(config)
        # Only Twilio's own recordings (the local terminal phone serves from loopback).
        if client is None or not is_twilio_host(urlsplit(recording.url).hostname or ""):
            return
        if twilio_sync.delete_recording(client, recording.recording_sid):
            log.info("recording %s deleted from Twilio after storing it", recording.recording_sid)

    return delete


def _retries_left(job: Job | None) -> bool:
    return bool(job is not None and job.retries_left and job.retries_left > 0)


def _note_failure(recording_id: int, exc: BaseException, job: Job | None) -> None:
    """Leave the reason on the row: queued again if RQ retries, else failed (retry later)."""
    reason = exc.reason if isinstance(exc, RetryLater) else f"{type(exc).__name__}: {exc}"
    # A full disk or an unreachable media host: retried soon after it is fixed.
    cause = resources.resource_cause(exc)
    if cause is not None:
        reason = resources.with_cause(cause, reason)
    session = db.session()
    try:
        if _retries_left(job):
            pipeline.mark_retrying(session, recording_id, reason)
        else:
            attempts = session.scalar(
                select(Recording.attempts).where(Recording.id == recording_id)) or 1
            session.commit()  # a read-only transaction; the write below starts its own
            retry = resources.resource_retry_time if cause else pipeline.retry_time
            pipeline.mark_failed(session, recording_id, reason,
                                 # Real time: the reconciliation compares it with the real clock.
                                 retry_at=retry(utcnow(), attempts))
        session.commit()
    except Exception:  # the database may be what failed; reconciliation finds the row later
        session.rollback()
        log.exception("could not record the failure of recording %s", recording_id)


def transcribe_recording(recording_id: int, force: bool = False) -> dict[str, Any]:
    """Transcribe one recording; idempotent (a done recording is left alone)."""
    app = get_app()
    job = get_current_job()
    clock = clock_of(app.config)
    with app.app_context():
        session = db.session()
        try:
            outcome = pipeline.run(
                session, recording_id,
                settings=PipelineSettings.from_config(app.config),
                now=clock(),
                job_id=job.id if job is not None else None,
                force=force,
                checkpoint=session.commit,
                after_store=_remote_deleter(app.config),
            )
        except Exception as exc:
            session.rollback()
            log.warning("transcription of recording %s failed: %s", recording_id, exc)
            _note_failure(recording_id, exc, job)
            raise
        finally:
            db.session.remove()
    result = outcome.as_dict()
    result["pid"] = os.getpid()
    return result
