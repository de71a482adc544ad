"""实时监控 (the wallboard): the queue right now and today's figures, as one JSON snapshot.

Read from the database on whichever node serves it (``callqueue.status`` for who waits and
every operator's state, ``reports.queue_figures`` for today's figures), at most once a second
per web process however many wallboards are open (:class:`SnapshotCache`).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from callqueue.presence import STATE_LABELS, State
from callqueue.status import queue_status
from cases.vocab import CATEGORY_LABELS
from reports import periods
from reports.indicators import Scope
from reports.queue_figures import QueueRules, queue_figures

STATE_ORDER = (State.IDLE, State.RINGING, State.ON_CALL, State.WRAP_UP, State.BREAK,
               State.OFFLINE)


def snapshot(session: Session, now: datetime, tz: ZoneInfo, rules: QueueRules
             ) -> dict[str, Any]:
    status = queue_status(session, now)
    today = now.astimezone(tz).date()
    scope = Scope(period=periods.custom(today, today), today=today, tz=tz)
    figures = queue_figures(session, scope, now, rules, operators=False, heatmap=False)
    by_state = {STATE_LABELS[s]: 0 for s in STATE_ORDER}
    for operator in status.operators:
        by_state[STATE_LABELS[operator.state]] += 1
    return {
        "at": now.isoformat(),
        "waiting": [{"area": CATEGORY_LABELS.get(w.area, w.area), "since": w.since.isoformat(),
                     "waited_seconds": w.waited_seconds, "position": w.position,
                     "connecting": w.status == "offered"} for w in status.waiting],
        "longest_wait_seconds": status.longest_wait,
        "callbacks": {"pending": len(status.callbacks),
                      "overdue": status.callbacks_overdue},
        "operators": [{"name": o.display_name, "state": o.state.value,
                       "label": STATE_LABELS[o.state], "since": o.since.isoformat(),
                       "seconds": o.seconds_in_state}
                      for o in sorted(status.operators,
                                      key=lambda o: (STATE_ORDER.index(o.state), o.username))
                      if o.state != State.OFFLINE],
        "by_state": by_state,
        "today": {
            "offered": figures.counts["offered"], "answered": figures.counts["answered"],
            "abandoned": figures.counts["abandoned"],
            "short_abandoned": figures.counts["short_abandoned"],
            "service_level": figures.service_level.as_json(),
            "service_level_seconds": rules.service_level_seconds,
            "answer_rate": figures.answer_rate.as_json(),
            "asa_seconds": figures.asa, "aht_seconds": figures.aht,
            "callbacks_done": figures.counts["callbacks_done"],
        },
    }


class SnapshotCache:
    """One snapshot per ``seconds`` per process, shared by every open wallboard."""

    def __init__(self, seconds: float = 1.0) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._at = 0.0

    def get(self, compute: Any, *, max_age: float | None = None) -> dict[str, Any]:
        """The snapshot, computed again if older than ``max_age`` (default ``seconds``)."""
        limit = self.seconds if max_age is None else max_age
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= limit:
                self._value = compute()
                self._at = time.monotonic()
            return self._value


# What changes every second by itself (the browser counts those on).
TICKING = frozenset({"at", "waited_seconds", "seconds", "longest_wait_seconds"})


def stable_part(value: Any) -> Any:
    """``value`` without the fields that only count time: equal when nothing happened."""
    if isinstance(value, dict):
        return {k: stable_part(v) for k, v in value.items() if k not in TICKING}
    if isinstance(value, list):
        return [stable_part(v) for v in value]
    return value
