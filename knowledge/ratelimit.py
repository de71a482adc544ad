"""A fixed-window request limit per client address, shared through Redis when there is one.

The public knowledge-base API needs no token, so it is limited per address instead. With
``REDIS_URL`` every web process counts in the same Redis key; without it (tests, a single
process) the counts live in this process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the window resets


class FixedWindowLimiter:
    """``limit`` requests per ``window`` seconds per key."""

    def __init__(self, limit: int, window: int = 60, redis: Any | None = None,
                 prefix: str = "ratelimit:kb:", clock: Any = time.time) -> None:
        self.limit, self.window, self.redis, self.prefix = limit, window, redis, prefix
        self.clock = clock
        self._local: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> Verdict:
        now = int(self.clock())
        bucket = now // self.window
        retry_after = self.window - now % self.window
        if self.redis is not None:
            name = f"{self.prefix}{key}:{bucket}"
            pipe = self.redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, self.window + 1)
            count = int(pipe.execute()[0])
        else:
            with self._lock:
                seen_bucket, count = self._local.get(key, (bucket, 0))
                count = count + 1 if seen_bucket == bucket else 1
                self._local[key] = (bucket, count)
                if len(self._local) > 10_000:  # forget old windows now and then
                    self._local = {k: v for k, v in self._local.items() if v[0] == bucket}
        return Verdict(count <= self.limit, max(self.limit - count, 0), retry_after)
