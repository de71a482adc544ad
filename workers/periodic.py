"""Periodic jobs, declared in one list of imported job functions; registered with RQ's cron
scheduler.

Every job here is idempotent, and each tick is enqueued once across all cron processes
(one per node, a restart overlap): the first scheduler to claim the tick in Redis enqueues
it, the others skip it (see :class:`ClusterCronScheduler`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from rq.cron import CronJob, CronScheduler
from rq.utils import now

from callqueue.jobs import queue_tick_job
from cases.jobs import sweep_overdue_job
from casesearch.jobs import refresh_index_job
from core.queues import CALLS, DEFAULT, REPORTS
from followup.jobs import followups_tick, send_reminders_job
from ivr.jobs import drain_call_log
from knowledge.reindex import kb_index_job
from messaging.jobs import send_due_texts
from reports.freshness import REFRESH_SECONDS
from reports.jobs import draft_monthly_bulletin_job, refresh_snapshots_job
from transcription.recovery import reconcile_recordings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: Callable[[], object]
    interval: int | None = None
    cron: str | None = None
    queue: str = DEFAULT
    timeout: int = 300


PERIODIC: tuple[Periodic, ...] = (
    # Menu steps queued in Redis (ivr.eventlog); pushes schedule a drain, this is the net.
    Periodic(name="call-log-drain", func=drain_call_log, interval=30),
    # The call queue's safety net: wrap-ups over, lost Twilio callbacks, dead placements.
    Periodic(name="queue-tick", func=queue_tick_job, interval=5, queue=CALLS, timeout=60),
    # Overdue is a matter of dates; every 15 minutes catches midnight and clock changes soon.
    Periodic(name="cases-overdue-sweep", func=sweep_overdue_job,
             interval=900),
    # Nothing lost: abandoned or never-enqueued transcriptions, callbacks Twilio never sent.
    # Every minute: an orphaned recording is found within a few minutes (docs/ivr.md).
    Periodic(name="transcription-reconcile",
             func=reconcile_recordings, interval=60),
    # Follow-ups whose after-commit hand-off was lost, due calls, lost calls.
    Periodic(name="followups-tick", func=followups_tick, interval=60),
    # Texts whose after-commit hand-off was lost, and retries that are due.
    Periodic(name="sms-outbox", func=send_due_texts, interval=60),
    # Deadline reminders; once per assignment and level (unique rows), so overlaps are safe.
    Periodic(name="followup-reminders", func=send_reminders_job,
             interval=900),
    # The 统计 page's standard periods, computed ahead so supervisors never wait for them.
    Periodic(name="reports-snapshots", func=refresh_snapshots_job,
             interval=REFRESH_SECONDS, queue=REPORTS, timeout=600),
    # The words of cases written since the last run, into the case search index (a search
    # also reads the few still pending itself; this keeps that few).
    # It also rebuilds the index when the shipped dictionaries changed (casesearch.rebuild).
    Periodic(name="case-search-index", func=refresh_index_job, interval=60),
    # The knowledge base's index, rebuilt when the shipped dictionaries changed (one read a
    # run otherwise; knowledge.reindex).
    Periodic(name="kb-search-index", func=kb_index_job, interval=300),
    # The monthly bulletin's draft on the first working day; once per month (unique month).
    Periodic(name="reports-bulletin-draft", func=draft_monthly_bulletin_job,
             interval=3600),
)


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
            job.func, job.queue, interval=job.interval, cron=job.cron,
            job_timeout=job.timeout, name=job.name,
        )
    return scheduler
