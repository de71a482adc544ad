"""Live events through Redis pub/sub: what the consoles on every web node stream.

A change is published after its transaction committed, on a channel per operator, per call
and for the wallboard. Subscribers (the console's Server-Sent Events streams, on any node)
read the truth from the database when told something changed, so a missed message costs
at most one refresh interval, never a wrong figure. Publishing never fails a request:
Redis away means no live push for a few seconds (bounded timeouts, then a pause of
``RETRY_AFTER_SECONDS`` before trying again).

Reusable for other live panels (e.g. a transcript shown in the screen pop): publish with
:meth:`LiveBus.publish` on :func:`call_channel` / :func:`operator_channel`, stream with
``console.live_stream.stream`` (or :meth:`LiveBus.listen`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "hotline:live:"
WALLBOARD_CHANNEL = PREFIX + "wallboard"


def operator_channel(agent_id: int) -> str:
    """Everything one operator's console shows: presence, the screen pop, notices."""
    return f"{PREFIX}operator:{agent_id}"


def call_channel(call_sid: str) -> str:
    """Events about one call (its queue state; later panels such as a live transcript)."""
    return f"{PREFIX}call:{call_sid}"


@dataclass
class LiveEvent:
    channel: str
    payload: dict[str, Any]


@dataclass
class LiveBus:
    """Publishes and subscribes; ``connection`` None (no Redis configured) publishes nothing."""

    connection: Redis | None
    RETRY_AFTER_SECONDS: float = 5.0
    _down_until: float = field(default=0.0, repr=False)

    @property
    def available(self) -> bool:
        return self.connection is not None

    def publish(self, channel: str, payload: dict[str, Any]) -> bool:
        """Publish one event; False (logged) when Redis is absent or unreachable."""
        if self.connection is None or time.monotonic() < self._down_until:
            return False
        try:
            self.connection.publish(channel, json.dumps(payload, ensure_ascii=False))
        except RedisError as exc:
            self._down_until = time.monotonic() + self.RETRY_AFTER_SECONDS
            log.warning("live events unavailable (%s): consoles refresh on their own", exc)
            return False
        return True

    def publish_all(self, events: Iterable[LiveEvent]) -> None:
        for event in events:
            if not self.publish(event.channel, event.payload):
                return

    def listen(self, channels: list[str], *, tick_seconds: float = 1.0
               ) -> Iterator[dict[str, Any] | None]:
        """Yield each event on ``channels`` as it arrives, and None every ``tick_seconds``
        without one (so the caller can send keep-alives and end on time). Stops (returns)
        when Redis fails: the caller reconnects later.
        """
        if self.connection is None:
            while True:
                time.sleep(tick_seconds)
                yield None
        pubsub = self.connection.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(*channels)
            while True:
                message = pubsub.get_message(timeout=tick_seconds)
                if message is None:
                    yield None
                    continue
                try:
                    yield json.loads(message["data"])
                except (TypeError, ValueError):
                    continue
        except RedisError as exc:
            log.warning("live stream lost Redis (%s)", exc)
            return
        finally:
            with contextlib.suppress(RedisError):
                pubsub.close()
