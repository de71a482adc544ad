"""A fixed-window request limit per client address, shared through Redis when there is one.

The public knowledge-base API needs no token, so it is limited per address instead. With
``REDIS_URL`` every web process counts in the same Redis key; without it (tests, a single
process) the counts live in this process.

The limit must never hold a request thread while Redis is slow or away (the same threads
answer Twilio's webhooks): its Redis client gives up after :data:`REDIS_TIMEOUT` seconds,
and the rule when Redis does not answer is **fail open to the process**: the request is
counted in this process's own window instead (so a client still gets at most ``limit``
requests a minute per web process, never an unlimited number), and Redis is left alone for
:data:`REDIS_RETRY_AFTER` seconds, so the next requests don't each wait for the timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Seconds the limiter waits for Redis (connect and each reply): tens of milliseconds.
REDIS_TIMEOUT = 0.05
# Seconds without asking Redis after it failed to answer.
REDIS_RETRY_AFTER = 5.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the window resets
    shared: bool = True  # counted in Redis (False: this process's own window)


class FixedWindowLimiter:
    """``limit`` requests per ``window`` seconds per key."""

    def __init__(self, limit: int, window: int = 60, redis: Any | None = None,
                 prefix: str = "ratelimit:kb:", clock: Any = time.time,
                 monotonic: Any = time.monotonic) -> None:
        self.limit, self.window, self.redis, self.prefix = limit, window, redis, prefix
        self.clock = clock
        self.monotonic = monotonic
        self._local: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._redis_skip_until = 0.0

    def _shared_count(self, key: str, bucket: int) -> int | None:
        """The count in Redis, or None when Redis is not asked or does not answer in time."""
        if self.redis is None or self.monotonic() < self._redis_skip_until:
            return None
        name = f"{self.prefix}{key}:{bucket}"
        try:
            pipe = self.redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, self.window + 1)
            return int(pipe.execute()[0])
        except (RedisError, OSError) as exc:
            self._redis_skip_until = self.monotonic() + REDIS_RETRY_AFTER
            log.warning("rate limit: Redis did not answer (%s); counting in this process "
                        "for %.0f s", exc, REDIS_RETRY_AFTER)
            return None

    def _local_count(self, key: str, bucket: int) -> int:
        with self._lock:
            seen_bucket, count = self._local.get(key, (bucket, 0))
            count = count + 1 if seen_bucket == bucket else 1
            self._local[key] = (bucket, count)
            if len(self._local) > 10_000:  # forget old windows now and then
                self._local = {k: v for k, v in self._local.items() if v[0] == bucket}
        return count

    def hit(self, key: str) -> Verdict:
        now = int(self.clock())
        bucket = now // self.window
        retry_after = self.window - now % self.window
        count = self._shared_count(key, bucket)
        shared = count is not None
        if count is None:
            count = self._local_count(key, bucket)
        return Verdict(count <= self.limit, max(self.limit - count, 0), retry_after, shared)
