"""The knowledge-base API's rate limit never waits on a stalled Redis: its client gives up
within tens of milliseconds and the request is counted in the process (fail open to the
process window, knowledge.ratelimit)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.redis_conn import connect_within
from knowledge import ratelimit
from knowledge.ratelimit import FixedWindowLimiter
from workers.embedded_redis import start


@pytest.fixture
def paused_redis(tmp_path: Path) -> Iterator[Any]:
    """A private Redis server, stopped (SIGSTOP) after the client connected."""
    server, url = start(tmp_path / "redis")
    client = connect_within(url, ratelimit.REDIS_TIMEOUT)
    client.ping()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield client
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.shutdown()


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_paused_redis_is_skipped_and_the_process_counts(paused_redis: Any) -> None:
    asked: list[int] = []
    pipeline = paused_redis.pipeline

    def counting_pipeline(*args: Any, **kwargs: Any) -> Any:
        asked.append(1)
        return pipeline(*args, **kwargs)

    paused_redis.pipeline = counting_pipeline
    monotonic = Ticking()
    limiter = FixedWindowLimiter(2, redis=paused_redis, clock=lambda: 120.0,
                                 monotonic=monotonic)
    verdicts = [limiter.hit("10.0.0.1") for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]  # still limited
    assert not any(v.shared for v in verdicts)
    assert asked == [1]  # Redis asked once, then left alone
    monotonic.now += ratelimit.REDIS_RETRY_AFTER
    limiter.hit("10.0.0.1")
    assert asked == [1, 1]  # and asked again after the pause


def test_the_api_client_has_tens_of_milliseconds(app: Any) -> None:
    from knowledge.api import _limiter

    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"
    app.extensions.pop("kb_rate_limiter", None)
    limiter = _limiter()
    kwargs = limiter.redis.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 0.05
    verdict = limiter.hit("10.0.0.2")  # nothing listens there: counted in the process
    assert verdict.allowed and not verdict.shared
