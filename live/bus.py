"""Where live utterances go: Redis pub/sub, one channel per call, read by any web node.

The channel name is the call's channel of the console's live events
(``hotline:live:call:<CallSid>``), so the operator's screen pop can show the transcript as
one more panel. Publishing never fails a stream: without Redis, the call page shows the
transcript once it is stored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "hotline:live:"
RETRY_AFTER_SECONDS = 5.0


def call_channel(call_sid: str) -> str:
    return f"{PREFIX}call:{call_sid}"


class Publisher:
    def __init__(self, connection: Redis | None) -> None:
        self.connection = connection
        self._down_until = 0.0

    def __call__(self, channel: str, payload: dict[str, Any]) -> bool:
        if self.connection is None or time.monotonic() < self._down_until:
            return False
        try:
            self.connection.publish(channel, json.dumps(payload, ensure_ascii=False))
        except RedisError as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            log.warning("live transcript not published (%s)", exc)
            return False
        return True


def listen(connection: Redis, channel: str, *, seconds: float, tick: float = 15.0
           ) -> Iterator[dict[str, Any] | None]:
    """Each message of ``channel`` as it arrives, None every ``tick`` seconds without one
    (a keep-alive), for at most ``seconds``; stops early if Redis goes away."""
    pubsub = connection.pubsub(ignore_subscribe_messages=True)
    deadline = time.monotonic() + seconds
    try:
        pubsub.subscribe(channel)
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=min(tick, max(0.1, deadline - time.monotonic())))
            if message is None:
                yield None
                continue
            try:
                yield json.loads(message["data"])
            except (TypeError, ValueError):
                continue
    except RedisError as exc:
        log.warning("live transcript stream lost Redis (%s)", exc)
    finally:
        with contextlib.suppress(RedisError):
            pubsub.close()
