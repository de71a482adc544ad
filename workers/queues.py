"""Queues by cost: transcription is slow and CPU-bound, everything else is light."""

from __future__ import annotations

import re

from redis import Redis
from rq import Queue

DEFAULT = "default"
TRANSCRIPTION = "transcription"
CALLS = "calls"
# Workers listen in this order: light work never waits behind a long decode.
ALL_QUEUES = (DEFAULT, CALLS, TRANSCRIPTION)

_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def job_id(*parts: str | int) -> str:
    """A valid RQ job id (RQ 2.x allows only ``[A-Za-z0-9_-]``) built from stable parts."""
    return "-".join(_JOB_ID_UNSAFE.sub("_", str(part)) for part in parts)


def connect(url: str) -> Redis:
    """For workers and commands: patient enough for a busy server."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def connect_fast(url: str) -> Redis:
    """For web requests: Twilio waits 15 s for an answer, and a paused or unreachable Redis
    must cost a webhook at most about a second before it takes its synchronous path."""
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection)
