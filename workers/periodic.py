"""Periodic jobs, declared in one list; registered with RQ's cron scheduler.

Every job here is idempotent, so two schedulers (a restart overlap, a second host)
enqueueing the same tick is harmless.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from rq.cron import CronScheduler

from workers.queues import DEFAULT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    interval: int | None = None
    cron: str | None = None
    queue: str = DEFAULT
    timeout: int = 300


PERIODIC: tuple[Periodic, ...] = (
    # Menu steps queued in Redis (ivr.eventlog); pushes schedule a drain, this is the net.
    Periodic(name="call-log-drain", func="workers.calllog_jobs.drain_call_log", interval=30),
    # Overdue is a matter of dates; every 15 minutes catches midnight and clock changes soon.
    Periodic(name="cases-overdue-sweep", func="workers.case_jobs.sweep_overdue_job",
             interval=900),
    # Nothing lost: abandoned or never-enqueued transcriptions, callbacks Twilio never sent.
    # Every minute: an orphaned recording is found within a few minutes (docs/ivr.md).
    Periodic(name="transcription-reconcile",
             func="workers.transcription_jobs.reconcile_recordings", interval=60),
    # Follow-ups whose after-commit hand-off was lost, due calls, lost calls, due texts.
    Periodic(name="followups-tick", func="workers.followup_jobs.followups_tick", interval=60),
    # Deadline reminders; once per assignment and level (unique rows), so overlaps are safe.
    Periodic(name="followup-reminders", func="workers.followup_jobs.send_reminders_job",
             interval=900),
)


def _resolve(path: str) -> Callable[..., object]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def build_scheduler(connection: Redis, jobs: tuple[Periodic, ...] = PERIODIC) -> CronScheduler:
    scheduler = CronScheduler(connection=connection)
    for job in jobs:
        scheduler.register(
            _resolve(job.func), job.queue, interval=job.interval, cron=job.cron,
            job_timeout=job.timeout, name=job.name,
        )
    return scheduler
