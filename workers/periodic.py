"""Periodic jobs, declared in one list; registered with RQ's cron scheduler.

Every job here is idempotent, and each tick is enqueued once across all cron processes
(one per node, a restart overlap): the first scheduler to claim the tick in Redis enqueues
it, the others skip it (see :class:`ClusterCronScheduler`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from rq.cron import CronJob, CronScheduler
from rq.utils import now

from core.queues import CALLS, DEFAULT, REPORTS

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
    Periodic(name="call-log-drain", func="ivr.jobs.drain_call_log", interval=30),
    # The call queue's safety net: wrap-ups over, lost Twilio callbacks, dead placements.
    Periodic(name="queue-tick", func="callqueue.jobs.queue_tick_job", interval=5,
             queue=CALLS, timeout=60),
    # Overdue is a matter of dates; every 15 minutes catches midnight and clock changes soon.
    Periodic(name="cases-overdue-sweep", func="cases.jobs.sweep_overdue_job",
             interval=900),
    # Nothing lost: abandoned or never-enqueued transcriptions, callbacks Twilio never sent.
    # Every minute: an orphaned recording is found within a few minutes (docs/ivr.md).
    Periodic(name="transcription-reconcile",
             func="transcription.jobs.reconcile_recordings", interval=60),
    # Follow-ups whose after-commit hand-off was lost, due calls, lost calls.
    Periodic(name="followups-tick", func="followup.jobs.followups_tick", interval=60),
    # Texts whose after-commit hand-off was lost, and retries that are due.
    Periodic(name="sms-outbox", func="messaging.jobs.send_due_texts", interval=60),
    # Deadline reminders; once per assignment and level (unique rows), so overlaps are safe.
    Periodic(name="followup-reminders", func="followup.jobs.send_reminders_job",
             interval=900),
    # The 统计 page's standard periods, computed ahead so supervisors never wait for them.
    Periodic(name="reports-snapshots", func="reports.jobs.refresh_snapshots_job",
             interval=300, queue=REPORTS, timeout=600),
    # The monthly bulletin's draft on the first working day; once per month (unique month).
    Periodic(name="reports-bulletin-draft", func="reports.jobs.draft_monthly_bulletin_job",
             interval=3600),
)


def _resolve(path: str) -> Callable[..., object]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


TICK_KEY = "hotline:cron:{name}:{slot}"


class ClusterCronScheduler(CronScheduler):
    """RQ's cron scheduler, safe to run on several nodes: each tick is enqueued once.

    Time is cut into slots of the job's interval; enqueueing a job claims its current slot
    with ``SET NX``, and a scheduler that finds the slot taken only moves its own clock on.
    Every live scheduler visits every slot, so a tick is lost only if all of them are down.
    """

    def enqueue_jobs(self) -> list[CronJob]:
        at = now()
        enqueued: list[CronJob] = []
        for job in self._cron_jobs:
            if not job.should_run():
                continue
            if self._claim(job, at.timestamp()):
                job.enqueue(self.connection)
                enqueued.append(job)
            job.set_enqueue_time(at)
        return enqueued

    def _claim(self, job: CronJob, timestamp: float) -> bool:
        period = int(job.interval or 60)
        key = TICK_KEY.format(name=job.name, slot=int(timestamp // period))
        return bool(self.connection.set(key, self.name, nx=True, ex=period * 2))


def build_scheduler(connection: Redis, jobs: tuple[Periodic, ...] = PERIODIC) -> CronScheduler:
    scheduler = ClusterCronScheduler(connection=connection)
    for job in jobs:
        scheduler.register(
            _resolve(job.func), job.queue, interval=job.interval, cron=job.cron,
            job_timeout=job.timeout, name=job.name,
        )
    return scheduler
