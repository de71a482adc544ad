"""Redis connections with the hotline's timeouts (used by the web app, jobs and health check)."""

from __future__ import annotations

from redis import Redis


def connect(url: str) -> Redis:
    """A client for ``url``; fails fast when Redis is unreachable rather than hanging a request."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
