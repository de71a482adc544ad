"""Transcription jobs run by RQ workers: ids in, domain calls, commits.

``transcribe_recording`` runs in a forked work horse and finds the speech model the
worker parent preloaded (``preload_speech_model``, a worker PRELOADER); the periodic
``reconcile_recordings`` makes sure no recording is left without a live job.
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

from core.clock import system_clock
from core.db import db, utcnow
from core.jobs import get_app
from core.queues import connect
from ivr.models import Recording
from transcription import pipeline, twilio_sync
from transcription.download import is_twilio_host
from transcription.engine import loaded_engine, model_problems, preload
from transcription.model_setup import ensure_configured_model
from transcription.pipeline import PipelineSettings, RetryLater
from transcription.recovery import reconcile, requeue_awaiting_model

log = logging.getLogger(__name__)

RECONCILE_LOCK = "hotline:transcription:reconcile"


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
    session = db.session()
    try:
        if _retries_left(job):
            pipeline.mark_retrying(session, recording_id, reason)
        else:
            attempts = session.scalar(
                select(Recording.attempts).where(Recording.id == recording_id)) or 1
            session.commit()  # a read-only transaction; the write below starts its own
            pipeline.mark_failed(session, recording_id, reason,
                                 retry_at=pipeline.retry_time(utcnow(), attempts))
        session.commit()
    except Exception:  # the database may be what failed; reconciliation finds the row later
        session.rollback()
        log.exception("could not record the failure of recording %s", recording_id)


def transcribe_recording(recording_id: int, force: bool = False) -> dict[str, Any]:
    """Transcribe one recording; idempotent (a done recording is left alone)."""
    app = get_app()
    job = get_current_job()
    clock = app.config.get("CLOCK") or system_clock
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


def reconcile_recordings() -> dict[str, Any]:
    """Periodic: recover abandoned jobs, add missed Twilio recordings, re-enqueue lost ones."""
    app = get_app()
    connection = _connection(get_current_job(), app.config)
    lock = connection.lock(RECONCILE_LOCK, timeout=600)
    if not lock.acquire(blocking=False):
        return {"skipped": "another reconciliation is running"}
    try:
        with app.app_context():
            session = db.session()
            try:
                twilio = (twilio_sync.make_client(app.config)
                          if app.config.get("TWILIO_RECONCILE") else None)
                report = reconcile(session, connection, app.config, now=utcnow(), twilio=twilio)
                session.commit()
            finally:
                db.session.remove()
    finally:
        lock.release()
    if report.requeued or report.gave_up or report.added_from_twilio:
        log.info("transcription reconciliation: %s", report.as_dict())
    return report.as_dict()


def _requeue_waiting(app: Any) -> None:
    if not app.config.get("REDIS_URL"):
        return
    with app.app_context():
        session = db.session()
        try:
            jids = requeue_awaiting_model(session, connect(app.config["REDIS_URL"]), app.config)
            session.commit()
            if jids:
                log.info("model available: %d recording(s) awaiting it re-enqueued", len(jids))
        except Exception:  # the reconciliation catches them later
            session.rollback()
            log.exception("could not re-enqueue recordings awaiting the model")
        finally:
            db.session.remove()


def preload_speech_model(app: Any) -> None:
    """Worker PRELOADER: load the model before forking; say plainly if there is none."""
    path = pipeline.model_path(app.config)
    ensure_configured_model(app.config, path)  # VOSK_MODEL_URL: this node installs its own
    if preload(path) is None:
        log.warning(
            "未安装语音模型，留言录音将保存并标记为“等待模型” / no speech model at %s: "
            "voicemails are kept as awaiting_model until one is installed with "
            "`flask --app app model install --zip FILE` (or --url URL --sha256 HEX)", path,
        )
        return
    _requeue_waiting(app)


def ensure_speech_model(app: Any) -> None:
    """Before forking a transcription job: load a model installed since the worker started."""
    path = pipeline.model_path(app.config)
    if loaded_engine(path) is not None or model_problems(path):
        return
    if preload(path) is not None:
        log.info("speech model installed while running: loaded %s in the worker", path)
        _requeue_waiting(app)
