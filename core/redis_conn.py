"""Redis connections with the hotline's timeouts (used by the web app, jobs and health check),
and where the embedded Redis of ``make run`` listens (``workers.embedded_redis`` runs it)."""

from __future__ import annotations

import hashlib
import socket
import tempfile
from pathlib import Path

from redis import Redis

SOCKET_NAME = "redis.sock"
# AF_UNIX paths are limited to 107 bytes; longer instance paths use a socket under /tmp
# named after the instance, so it stays discoverable.
_MAX_SOCKET_PATH = 100


def connect(url: str) -> Redis:
    """A client for ``url``; fails fast when Redis is unreachable rather than hanging a request."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def connect_fast(url: str) -> Redis:
    """For web requests: Twilio waits 15 s for an answer, and a paused or unreachable Redis
    must cost a webhook at most about a second before it takes its synchronous path."""
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


def connect_within(url: str, seconds: float) -> Redis:
    """A client that gives up after ``seconds`` (connect and each reply), for work a request
    may skip when Redis is slow: the knowledge-base API's rate limit."""
    return Redis.from_url(url, socket_connect_timeout=seconds, socket_timeout=seconds)


def socket_path(instance_path: Path) -> Path:
    """Where the instance's embedded Redis listens (the same path on every start)."""
    path = Path(instance_path).resolve() / SOCKET_NAME
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"hotline-redis-{digest}.sock"


def url_for(instance_path: Path) -> str:
    return f"unix://{socket_path(instance_path)}"


def discover(instance_path: Path) -> str | None:
    """The URL of the instance's embedded Redis if one is listening now, else None."""
    path = socket_path(instance_path)
    if not path.exists():
        return None
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.2)
    try:
        probe.connect(str(path))
    except OSError:
        return None  # a stale socket file: its server is gone
    finally:
        probe.close()
    return f"unix://{path}"
