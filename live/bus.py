"""Where live utterances go: Redis pub/sub, one channel per call, read by any web node.

The channel name is the call's channel of the console's live events
(``hotline:live:call:<CallSid>``), so the operator's screen pop can show the transcript as
one more panel. Publishing never fails a stream: without Redis, the call page shows the
transcript once it is stored.
"""

from __future__ import annotations

import json
import logging
import time
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
