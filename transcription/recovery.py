"""Nothing lost: re-enqueue recordings whose job died or never existed, list and requeue failures.

Jobs vanish in several ways: Redis was down at the callback, a worker was killed mid-job
(RQ moves the abandoned job out of its StartedJobRegistry), Redis restarted without
persistence, the callback itself never came. The database is the source of truth: every
recording not done (or permanently failed) is checked against RQ and re-enqueued when no
live job is responsible for it, keeping one live job per recording.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from twilio.rest import Client

from core.db import db, retry_when_locked, utcnow
from core.jobs import get_app
from core.queues import ALL_QUEUES, TRANSCRIPTION, connect, job_is_live, queue
from core.settings import setting
from ivr.calllog import upsert_recording
from ivr.models import Recording
from transcription import resources, twilio_sync
from transcription.dispatch import (
    TRANSCRIBE_JOB,
    TranscriptionPolicy,
    enqueue_transcription,
    transcription_job_id,
)
from transcription.engine import model_problems
from transcription.pipeline import mark_failed, mark_queued, model_path
from transcription.statuses import IN_FLIGHT
from transcription.statuses import TranscriptionStatus as S

log = logging.getLogger(__name__)

# The callback enqueues at once; a pending row older than this lost its hand-off.
PENDING_GRACE = timedelta(minutes=2)
# Twilio statuses of recordings that have no audio to transcribe.
NO_AUDIO = frozenset({"absent", "failed", "deleted"})
# A scheduled retry this far past its time will not run by itself.
STRANDED_AFTER = timedelta(minutes=3)
_MAX_IDS = 1000


def current_job_id(recording: Recording) -> str:
    return recording.transcription_job_id or transcription_job_id(recording.recording_sid)


def _next_job_id(recording_sid: str, jid: str) -> str:
    base = transcription_job_id(recording_sid)
    match = re.fullmatch(re.escape(base) + r"-r(\d+)", jid)
    return transcription_job_id(recording_sid, int(match.group(1)) + 1 if match else 1)


def _stranded(connection: Redis, jid: str) -> bool:
    """A retry scheduled long ago that nobody enqueued: no worker runs ``--with-scheduler``."""
    job = Job.fetch(jid, connection=connection)
    if job.get_status(refresh=False) != JobStatus.SCHEDULED:
        return False
    registry = ScheduledJobRegistry(job.origin, connection=connection)
    try:
        due = registry.get_scheduled_time(jid)
    except NoSuchJobError:
        return True
    # RQ's scheduler runs on the real clock, so its schedule is compared with the real clock.
    overdue = utcnow() - due
    if overdue > STRANDED_AFTER:
        log.error("retry of %s was due %s ago: is a worker running --with-scheduler?", jid,
                  overdue)
        return True
    return False


def _retire(connection: Redis, jid: str) -> None:
    """Take a superseded job out of RQ's registries (its hash expires on its own)."""
    job = Job.fetch(jid, connection=connection)
    if job.get_status(refresh=False) == JobStatus.SCHEDULED:
        job.cancel()
        return
    registry = FailedJobRegistry(job.origin, connection=connection)
    if jid in registry:
        registry.remove(jid, delete_job=False)


def requeue_recording(
    session: Session,
    connection: Redis,
    recording: Recording,
    *,
    policy: TranscriptionPolicy,
    force: bool = False,
) -> str | None:
    """Enqueue a new job for ``recording`` unless a live one exists; returns its id.

    The old id is reused when it is free; a dead job still holding it (finished, failed)
    is retired and the next ``-r<n>`` id used. Commits the queued status before enqueueing
    so the job never races our own bookkeeping.
    """
    if recording.transcription_status == S.DONE and not force:
        return None
    jid = current_job_id(recording)
    for _ in range(_MAX_IDS):
        if not Job.exists(jid, connection):
            break
        if job_is_live(connection, jid) and not _stranded(connection, jid):
            return None
        _retire(connection, jid)
        jid = _next_job_id(recording.recording_sid, jid)
    # End the caller's read transaction first: on SQLite, a transaction that read and then
    # writes fails if another process committed in between; one that starts writing waits.
    session.commit()
    statuses = tuple(s for s in S if s != S.DONE or force)
    mark_queued(session, recording.id, jid, from_statuses=statuses)
    session.commit()
    enqueue_transcription(connection, recording.id, recording.recording_sid,
                          duration=recording.duration, policy=policy, jid=jid, force=force)
    log.info("transcription of %s enqueued as %s", recording.recording_sid, jid)
    return jid


def retry_transcription(
    session: Session,
    connection: Redis,
    recording_id: int,
    config: Mapping[str, Any],
    *,
    force: bool = False,
) -> str | None:
    """An operator's "retry" (console, CLI): a new job unless one is live; its id or None.

    ``force`` transcribes a done recording again (e.g. after installing a better model).
    """
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise LookupError(f"recording {recording_id} does not exist")
    return requeue_recording(session, connection, recording,
                             policy=TranscriptionPolicy.from_config(config), force=force)


def transcription_retrier(config: Mapping[str, Any]) -> Callable[[Session, int], str | None]:
    """The console's retry button, wired by the app: ``retry(session, recording_id)``.

    Raises redis's ``ConnectionError`` when no queue is configured or it is unreachable.
    """

    def retry(session: Session, recording_id: int) -> str | None:
        url = config.get("REDIS_URL")
        if not url:
            raise RedisConnectionError("REDIS_URL is not configured")
        return retry_transcription(session, connect(url), recording_id, config)

    return retry


def requeue_awaiting_model(
    session: Session, connection: Redis, config: Mapping[str, Any]
) -> list[str]:
    """Enqueue every recording that waits for a model, if the model is there now."""
    if model_problems(model_path(config)):
        return []
    policy = TranscriptionPolicy.from_config(config)
    waiting = session.scalars(
        select(Recording).where(Recording.transcription_status == S.AWAITING_MODEL)
        .order_by(Recording.id)
    ).all()
    jids = [requeue_recording(session, connection, r, policy=policy) for r in waiting]
    return [j for j in jids if j]


def clean_abandoned(connection: Redis, now: datetime) -> int:
    """Let RQ move jobs of dead workers out of the started registry (retry or failed)."""
    registry = queue(TRANSCRIPTION, connection).started_job_registry
    expired = registry.get_expired_job_ids(now.timestamp())
    if expired:
        registry.cleanup(timestamp=now.timestamp())
        log.warning("abandoned transcription jobs recovered: %s", ", ".join(expired))
    return len(expired)


@dataclass
class ReconcileReport:
    """What one reconciliation did."""

    abandoned: int = 0
    added_from_twilio: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    twilio_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "abandoned": self.abandoned, "added_from_twilio": self.added_from_twilio,
            "requeued": self.requeued, "gave_up": self.gave_up, "twilio_error": self.twilio_error,
        }


def sync_from_twilio(session: Session, client: Client, *, now: datetime) -> list[Recording]:
    """Add (or complete) rows for recordings Twilio has and we missed; returns those rows."""
    since = twilio_sync.window_start(session, now)
    found = []
    for remote in twilio_sync.list_recordings_since(client, since):
        if remote.status != "completed":
            continue
        update = upsert_recording(
            session, remote.sid, now=now, call_sid=remote.call_sid, url=remote.url,
            duration=str(remote.duration or ""), status="completed",
        )
        recording = update.recording
        if update.created or update.newly_completed:
            log.warning("recording %s reached us only through the Twilio API", remote.sid)
            found.append(recording)
        elif recording.transcription_status == S.PENDING:
            found.append(recording)
    twilio_sync.record_check(session, now)
    session.commit()
    return found


def _candidates(session: Session, config: Mapping[str, Any], now: datetime) -> list[Recording]:
    stuck_before = now - timedelta(minutes=int(setting(config, "TRANSCRIPTION_STUCK_MINUTES")))
    conditions = [
        and_(Recording.transcription_status == S.PENDING,
             Recording.updated_at < now - PENDING_GRACE),
        and_(Recording.transcription_status.in_([str(s) for s in IN_FLIGHT]),
             Recording.updated_at < stuck_before),
        and_(Recording.transcription_status == S.FAILED,
             Recording.transcription_retry_at.is_not(None),
             Recording.transcription_retry_at <= now),
    ]
    if not model_problems(model_path(config)):
        conditions.append(Recording.transcription_status == S.AWAITING_MODEL)
    if resources.space_is_back(config):  # checked at every pass: each minute
        conditions.append(and_(Recording.transcription_status == S.FAILED,
                               Recording.transcription_retry_at.is_not(None),
                               Recording.transcription_error.startswith(resources.DISK_FULL)))
    return list(session.scalars(select(Recording).where(or_(*conditions)).order_by(Recording.id)))


def reconcile(
    session: Session,
    connection: Redis,
    config: Mapping[str, Any],
    *,
    now: datetime,
    twilio: Client | None = None,
) -> ReconcileReport:
    """One pass: recover abandoned jobs, list Twilio, re-enqueue what has no live job."""
    report = ReconcileReport(abandoned=clean_abandoned(connection, now))
    policy = TranscriptionPolicy.from_config(config)
    max_attempts = int(setting(config, "TRANSCRIPTION_MAX_ATTEMPTS"))
    fresh: list[Recording] = []
    if twilio is not None:
        try:
            fresh = sync_from_twilio(session, twilio, now=now)
        except Exception as exc:  # Twilio down or credentials wrong: the DB pass still runs
            session.rollback()
            report.twilio_error = str(exc)[:300]
            log.error("listing Twilio recordings failed: %s", exc)
        report.added_from_twilio = [r.recording_sid for r in fresh]
    candidates = [*fresh, *_candidates(session, config, now)]
    session.commit()  # writes below each start their own transaction (see requeue_recording)
    seen: set[int] = set()
    for recording in candidates:
        if recording.id in seen:
            continue
        seen.add(recording.id)
        if recording.transcription_status == S.PENDING and recording.status in NO_AUDIO:
            mark_failed(session, recording.id,
                        f"Twilio 未保存录音 / Twilio reports the recording as {recording.status}")
            session.commit()
            continue
        if recording.transcription_status == S.PENDING and not recording.url:
            continue  # nothing to download yet; the Twilio listing will fill the URL
        # Waiting for a model, disk space or a media host says nothing about the recording.
        waiting = (recording.transcription_status == S.AWAITING_MODEL
                   or resources.cause_of(recording.transcription_error) is not None)
        if recording.attempts >= max_attempts and not waiting:
            if job_is_live(connection, current_job_id(recording)):
                continue
            last = recording.transcription_error or "worker died or job lost"
            mark_failed(session, recording.id,
                        f"已尝试 {recording.attempts} 次仍未成功，请人工处理 / "
                        f"gave up after {recording.attempts} attempts: {last}")
            session.commit()
            report.gave_up.append(recording.recording_sid)
            continue
        jid = requeue_recording(session, connection, recording, policy=policy)
        if jid:
            report.requeued.append(recording.recording_sid)
    return report


@dataclass(frozen=True)
class FailedJob:
    """A job in one of RQ's failed registries."""

    id: str
    queue: str
    func: str
    args: tuple[Any, ...]
    ended_at: datetime | None
    error: str


def failed_jobs(connection: Redis) -> list[FailedJob]:
    """Every job in the failed registries of our queues, newest first."""
    found = []
    for name in ALL_QUEUES:
        registry = FailedJobRegistry(name, connection=connection)
        for job in Job.fetch_many(registry.get_job_ids(), connection=connection):
            if job is None:
                continue
            result = job.latest_result()
            error = ((result.exc_string if result is not None else None) or "").strip()
            lines = error.splitlines()
            found.append(FailedJob(job.id, name, job.func_name or "", tuple(job.args or ()),
                                   job.ended_at, lines[-1] if lines else ""))
    return sorted(found, key=lambda j: j.ended_at.timestamp() if j.ended_at else 0,
                  reverse=True)


def requeue_job(
    session: Session, connection: Redis, jid: str, config: Mapping[str, Any]
) -> str | None:
    """Requeue a failed job; transcription jobs get a fresh job (and fresh retries)."""
    job = Job.fetch(jid, connection=connection)
    if job.func_name == TRANSCRIBE_JOB and job.args:
        recording = session.get(Recording, int(job.args[0]))
        if recording is None:
            raise LookupError(f"job {jid}: recording {job.args[0]} no longer exists")
        return requeue_recording(session, connection, recording,
                                 policy=TranscriptionPolicy.from_config(config))
    FailedJobRegistry(job.origin, connection=connection).requeue(jid)
    return jid


RECONCILE_LOCK = "hotline:transcription:reconcile"


@retry_when_locked
def reconcile_recordings() -> dict[str, Any]:
    """Periodic: recover abandoned jobs, add missed Twilio recordings, re-enqueue lost ones."""
    app = get_app()
    job = get_current_job()
    connection = job.connection if job is not None else connect(app.config["REDIS_URL"])
    lock = connection.lock(RECONCILE_LOCK, timeout=600)
    if not lock.acquire(blocking=False):
        return {"skipped": "another reconciliation is running"}
    try:
        with app.app_context():
            session = db.session()
            try:
                twilio = (twilio_sync.make_client(app.config)
                          if app.config.get("TWILIO_RECONCILE") else None)
                # The real clock, not the app's: rows' updated_at (the column default) and
                # RQ's registries, which this compares against, are written on it.
                report = reconcile(session, connection, app.config, now=utcnow(), twilio=twilio)
                session.commit()
            finally:
                db.session.remove()
    finally:
        lock.release()
    if report.requeued or report.gave_up or report.added_from_twilio:
        log.info("transcription reconciliation: %s", report.as_dict())
    return report.as_dict()
