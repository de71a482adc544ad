"""Queues by cost: transcription is slow and CPU-bound, report figures take seconds of
database work, everything else is light."""

from __future__ import annotations

import re

from redis import Redis
from rq import Queue

from core.redis_conn import connect, connect_fast

__all__ = ["ALL_QUEUES", "CALLS", "DEFAULT", "REPORTS", "TRANSCRIPTION", "connect", "connect_fast",
           "job_id", "queue"]

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
