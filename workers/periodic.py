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


PERIODIC: tuple[Periodic, ...] = ()


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
