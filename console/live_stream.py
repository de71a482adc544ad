"""Server-Sent Events for the console: live panels that work on any web node.

A stream subscribes to Redis pub/sub channels (``callqueue.live``) and turns what arrives
into events for the browser; it also looks again every ``tick_seconds`` whatever arrived, so
a message lost (Redis away, published on a node that died) costs at most one tick. Each event
is read from the database, never carried over from another node's memory.

Reusable for other live panels (e.g. the transcript a later screen-pop panel shows): publish
on ``callqueue.live.call_channel(call_sid)`` and open :func:`event_stream` on it.

Capacity. A stream holds one of the web process's threads for as long as it is open, outside
the bulkhead that keeps threads free for Twilio (``core/bulkhead.py``: the bulkhead's slot is
released once the response starts). So streams have their own limit per process,
``LIVE_STREAMS_PER_PROCESS``, and gunicorn is given that many threads more
(``workers/gunicorn_conf.py``); one stream more is refused with 503 at once and the page
tries again. Each stream ends after ``max_seconds`` (the browser reconnects on its own and
gets a fresh snapshot first), so a thread is never held by a browser that went away silently.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, Response

from callqueue.live import LiveBus
from core.db import db

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
KEEPALIVE_SECONDS = 15.0
BUSY_BODY = "实时连接繁忙，请稍后重试".encode()


class StreamSlots:
    """At most ``size`` live streams in this process at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(max(size, 1))
        self.refused = 0

    def take(self) -> bool:
        if self.size <= 0 or not self._free.acquire(blocking=False):
            self.refused += 1
            return False
        return True

    def give(self) -> None:
        self._free.release()


def format_event(name: str, data: dict[str, Any]) -> str:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {payload}\n\n"


def busy() -> Response:
    return Response(BUSY_BODY, status=503, mimetype="text/plain",
                    headers={"Retry-After": "3", "Cache-Control": "no-store"})


def event_stream(app: Flask, slots: StreamSlots, bus: LiveBus, channels: list[str], *,
                 hello: Callable[[], Iterable[Event]],
                 on_message: Callable[[dict[str, Any]], Iterable[Event]] = lambda _m: (),
                 on_tick: Callable[[], Iterable[Event]] = lambda: (),
                 tick_seconds: float = 2.0, max_seconds: float = 120.0) -> Response:
    """An SSE response: ``hello()`` first, then ``on_message`` for each pub/sub message and
    ``on_tick`` every ``tick_seconds``. The callbacks run in an app context of their own and
    may use ``db.session`` (removed after each call)."""
    if not slots.take():
        return busy()

    def run(callback: Callable[[], Iterable[Event]]) -> list[Event]:
        with app.app_context():
            try:
                return list(callback())
            finally:
                db.session.remove()

    def generate() -> Iterator[str]:
        try:
            yield f"retry: {int(tick_seconds * 1000)}\n\n"
            for name, data in run(hello):
                yield format_event(name, data)
            started = last_tick = last_sent = time.monotonic()
            for message in _messages(bus, channels, min(tick_seconds, 1.0)):
                now = time.monotonic()
                events: list[Event] = []
                if message is not None:
                    events += run(lambda m=message: on_message(m))  # type: ignore[misc]
                if now - last_tick >= tick_seconds:
                    last_tick = now
                    events += run(on_tick)
                for name, data in events:
                    yield format_event(name, data)
                    last_sent = now
                if now - last_sent >= KEEPALIVE_SECONDS:
                    last_sent = now
                    yield ": ping\n\n"
                if now - started >= max_seconds:
                    yield format_event("bye", {})
                    return
        finally:
            slots.give()

    return Response(generate(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _messages(bus: LiveBus, channels: list[str], tick: float
              ) -> Iterator[dict[str, Any] | None]:
    """Pub/sub messages (None between them); once Redis fails, None every ``tick`` seconds
    (the stream keeps looking itself until the browser reconnects)."""
    yield from bus.listen(channels, tick_seconds=tick)
    while True:
        time.sleep(tick)
        yield None
