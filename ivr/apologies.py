"""Apologies answered while the database was away, logged once it is back.

When a webhook fails (the database refuses connections, a bug), the caller hears the apology
and can leave a voicemail (``FlowEngine.apology``); the request's own call-log writes were
rolled back. So that the call log still shows that caller and what they heard, the apology is
recorded as an ``apology`` event of the call: pushed to the Redis call log when there is one
(its drain writes it once the database answers again, retrying meanwhile), otherwise kept in
this process (at most :data:`MAX_PENDING`) and written after the next webhook that commits.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from call_flows.engine import LogEvent
from ivr.eventlog import CallLogQueue, LogEntry, apply_entry

log = logging.getLogger(__name__)

MAX_PENDING = 1000
APOLOGY = "apology"


class ApologyLog:
    """What :func:`record` could not push to Redis, until :func:`flush` writes it."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._pending: deque[LogEntry] = deque(maxlen=max_pending)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def record(self, queue: CallLogQueue | None, params: Mapping[str, str], *, flow: str,
               node: str | None, now: datetime, reason: str) -> None:
        """Remember that the caller of ``params["CallSid"]`` heard the apology."""
        sid = params.get("CallSid") or ""
        if not sid:
            return
        entry = LogEntry.build(call_sid=sid, from_number=params.get("From", ""),
                               to_number=params.get("To", ""), flow=flow, at=now,
                               events=[LogEvent(APOLOGY, node, None, reason[:200])],
                               updates={}, last_node=None)
        if queue is not None:
            try:
                queue.push(entry)
                return
            except RedisError:
                pass
        with self._lock:
            self._pending.append(entry)

    def flush(self, session: Session) -> int:
        """Write the remembered apologies and commit; on failure keep them for next time."""
        with self._lock:
            entries = list(self._pending)
            self._pending.clear()
        if not entries:
            return 0
        try:
            for entry in entries:
                apply_entry(session, entry)
            session.commit()
        except Exception:
            session.rollback()
            log.warning("%d apology log entries not written yet", len(entries), exc_info=True)
            with self._lock:
                self._pending.extendleft(reversed(entries))
            return 0
        return len(entries)
