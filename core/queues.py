"""The job queues (by cost: transcription is slow and CPU-bound, report figures take seconds
of database work, everything else is light), job ids and enqueueing a job once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from core.redis_conn import connect, connect_fast

__all__ = ["ALL_QUEUES", "CALLS", "DEFAULT", "REPORTS", "TRANSCRIPTION", "connect", "connect_fast",
           "enqueue_once", "job_id", "job_is_live", "queue", "quick_redis_for", "redis_for"]

DEFAULT = "default"
TRANSCRIPTION = "transcription"
CALLS = "calls"
REPORTS = "reports"
# Workers listen in this order: light work never waits behind a long decode or a report.
ALL_QUEUES = (DEFAULT, CALLS, TRANSCRIPTION, REPORTS)

_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def job_id(*parts: str | int) -> str:
    """A valid RQ job id (RQ 2.x allows only ``[A-Za-z0-9_-]``) built from stable parts."""
    return "-".join(_JOB_ID_UNSAFE.sub("_", str(part)) for part in parts)


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection)


# A job in one of these states will still run: nothing new may be enqueued next to it.
LIVE_STATUSES = frozenset({
    JobStatus.CREATED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED,
    JobStatus.DEFERRED,
})
_connections: dict[str, Redis] = {}


def job_is_live(connection: Redis, jid: str) -> bool:
    """True if a job with this id exists and will still run."""
    if not Job.exists(jid, connection):
        return False
    return Job.fetch(jid, connection=connection).get_status(refresh=True) in LIVE_STATUSES


def redis_for(config: Mapping[str, Any]) -> Redis | None:
    """The configured Redis (``REDIS_URL``), one client per URL; None when not configured."""
    url = config.get("REDIS_URL")
    if not url:
        return None
    if url not in _connections:
        _connections[url] = connect(url)
    return _connections[url]


def quick_redis_for(config: Mapping[str, Any]) -> Redis | None:
    """For hand-offs inside web requests: a Redis outage may cost a caller only half a second."""
    url = config.get("REDIS_URL")
    if not url:
        return None
    key = "quick:" + url
    if key not in _connections:
        _connections[key] = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2)
    return _connections[key]


def enqueue_once(connection: Redis, name: str, func: Callable[..., Any], *args: Any,
                 jid: str, **options: Any) -> bool:
    """Enqueue ``func(*args)`` on queue ``name`` unless a live job has the id ``jid``."""
    if job_is_live(connection, jid):
        return False
    queue(name, connection).enqueue(func, *args, job_id=jid, **options)
    return True
