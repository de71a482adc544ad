"""A start-rate limit shared by every worker through Redis (Twilio: 1 outbound call/s).

Each caller reserves the next free slot atomically (Lua, on Redis's own clock so hosts with
skewed clocks agree) and sleeps until it: N callers are spaced ``interval`` apart in the
order they asked, without polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis import Redis

# KEYS[1]: the slot key; ARGV[1]: interval in microseconds. Returns microseconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', slot + interval),
           'PX', math.floor((slot + interval - now) / 1000) + 1000)
return slot - now
"""


class RateLimitTimeout(RuntimeError):
    """The next free slot is further away than the caller is willing to wait."""


class RateLimiter:
    """At most one start per ``interval`` seconds across all processes using ``key``."""

    def __init__(self, connection: Redis, key: str, interval: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.connection = connection
        self.key = key
        self.interval_us = max(0, int(interval * 1_000_000))
        self._reserve = connection.register_script(_RESERVE)
        self._sleep = sleep

    @classmethod
    def per_second(cls, connection: Redis, key: str, rate: float) -> RateLimiter:
        return cls(connection, key, 1.0 / rate if rate > 0 else 0.0)

    def acquire(self, max_wait: float = 60.0) -> float:
        """Wait for this caller's slot; returns the seconds waited."""
        if self.interval_us == 0:
            return 0.0
        wait = int(self._reserve(keys=[self.key], args=[self.interval_us])) / 1_000_000
        if wait > max_wait:
            # The slot stays reserved (and unused): harmless, it only spaces later calls more.
            raise RateLimitTimeout(f"next call slot in {wait:.1f} s")
        if wait > 0:
            self._sleep(wait)
        return wait
