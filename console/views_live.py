"""实时监控: the wallboard for the centre and supervisors, live on any web node."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify, render_template

from callqueue.live import WALLBOARD_CHANNEL
from callqueue.runtime import QueueRuntime
from console.auth import CENTRE
from console.blueprint import route
from console.live_stream import StreamSlots, event_stream
from console.wallboard import SnapshotCache, snapshot, stable_part
from console.web import tz
from core.db import db
from reports.queue_figures import QueueRules


def _runtime() -> QueueRuntime:
    return current_app.extensions["queue_runtime"]


def _cache() -> SnapshotCache:
    return current_app.extensions["wallboard_cache"]


def _compute() -> dict[str, Any]:
    return snapshot(db.session, _runtime().now(), tz(), QueueRules.from_config(current_app.config))


@route("/live", roles=CENTRE)
def live() -> Any:
    data = _cache().get(_compute)
    db.session.commit()
    return render_template("console/live.html", data=data)


@route("/live/data", roles=CENTRE)
def live_data() -> Any:
    data = _cache().get(_compute)
    db.session.commit()
    return jsonify(data)


@route("/live/stream", roles=CENTRE)
def live_stream() -> Any:
    """The wallboard's snapshot whenever the queue changes (any node), and every 2 s."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    slots: StreamSlots = current_app.extensions["live_stream_slots"]
    zone = tz()
    rules = QueueRules.from_config(current_app.config)
    runtime = _runtime()
    cache = _cache()
    last: list[str] = [""]

    def compute() -> dict[str, Any]:
        return snapshot(db.session, runtime.now(), zone, rules)

    def changed(max_age: float | None) -> list[tuple[str, dict[str, Any]]]:
        data = cache.get(compute, max_age=max_age)
        # Waits and times in state tick in the browser: send only when something happened.
        text = json.dumps(stable_part(data), sort_keys=True)
        if text == last[0]:
            return []
        last[0] = text
        return [("snapshot", data)]

    return event_stream(app, slots, runtime.bus, [WALLBOARD_CHANNEL],
                        hello=lambda: changed(None), on_message=lambda _m: changed(0.2),
                        on_tick=lambda: changed(None), tick_seconds=2.0)
