"""Menu steps and status callbacks logged through Redis, written to the database later.

Most webhook requests are menu steps: a key press or a timeout. Their TwiML depends only
on the flow and on the state carried in the signed action URL, so they need no database
round trip; writing their call-log rows synchronously would cost more than answering.
They are pushed to a Redis list instead (one round trip) and a drain job writes them in
batches. Everything that must be durable before Twilio hears back — a new call, a
recording, a filed case, a status change — is still written in the request. If Redis is
unreachable the step is written synchronously, so nothing is lost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.engine import LogEvent
from ivr import calllog
from ivr.models import CallEvent

log = logging.getLogger(__name__)

PENDING_KEY = "hotline:calllog:pending"
PROCESSING_KEY = "hotline:calllog:processing"
SCHEDULED_KEY = "hotline:calllog:drain-scheduled"
LOCK_KEY = "hotline:calllog:drain-lock"
DRAIN_JOB = "workers.calllog_jobs.drain_call_log"
BATCH = 500


@dataclass
class LogEntry:
    """One menu step: the events it produced and the call-state updates it made."""

    call_sid: str
    from_number: str
    to_number: str
    flow: str
    at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[str, str] = field(default_factory=dict)
    last_node: str | None = None
    # A status callback (CallStatus, CallDuration, Direction) rather than a menu step.
    status: dict[str, str] | None = None

    @classmethod
    def build(cls, *, call_sid: str, from_number: str, to_number: str, flow: str,
              at: datetime, events: list[LogEvent], updates: dict[str, str],
              last_node: str | None) -> LogEntry:
        return cls(call_sid, from_number, to_number, flow, at.isoformat(),
                   [asdict(e) for e in events], dict(updates), last_node)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> LogEntry:
        return cls(**json.loads(text))


class CallLogQueue:
    """Pushes entries and makes sure a drain job is on its way (at most one per second)."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def push(self, entry: LogEntry) -> None:
        pipe = self.connection.pipeline(transaction=False)
        pipe.rpush(PENDING_KEY, entry.to_json())
        pipe.set(SCHEDULED_KEY, "1", nx=True, ex=1)
        _, newly_scheduled = pipe.execute()
        if newly_scheduled:
            from rq import Queue

            from workers.queues import DEFAULT

            Queue(DEFAULT, connection=self.connection).enqueue(
                DRAIN_JOB, result_ttl=0, failure_ttl=7 * 86400, description="drain call log"
            )


def apply_entry(session: Session, entry: LogEntry) -> None:
    """Write one entry; the call row is created if the first request never reached us."""
    at = datetime.fromisoformat(entry.at)
    call = calllog.get_or_create_call(
        session, entry.call_sid, now=at, from_number=entry.from_number,
        to_number=entry.to_number, flow=entry.flow,
    )
    session.flush()
    if entry.status:
        calllog.apply_status(
            session, entry.call_sid, entry.status.get("CallStatus", ""), now=at,
            duration=entry.status.get("CallDuration"),
            direction=entry.status.get("Direction", "inbound"), call=call,
        )
        return
    calllog.log_events(session, call, [LogEvent(**e) for e in entry.events], at)
    latest = session.scalar(select(func.max(CallEvent.at)).where(CallEvent.call_id == call.id))
    # Entries may be written after later synchronous steps: never move last_node backwards.
    newest = latest is None or latest <= at
    calllog.apply_updates(call, entry.updates, entry.last_node if newest else None)


def drain(connection: Redis, session_scope: Any) -> int:
    """Move pending entries to the database; returns how many were written.

    Entries are moved to a processing list before the write and removed only after the
    commit, so a drain killed halfway leaves them for the next one (at-least-once). A
    lock keeps two drains from sharing the processing list.
    """
    lock = connection.lock(LOCK_KEY, timeout=300, blocking=False)
    if not lock.acquire():
        return 0
    written = 0
    try:
        while True:
            if not connection.llen(PROCESSING_KEY):
                pipe = connection.pipeline(transaction=False)
                for _ in range(BATCH):
                    pipe.lmove(PENDING_KEY, PROCESSING_KEY, "LEFT", "RIGHT")
                if not any(pipe.execute()):
                    break
            raw = connection.lrange(PROCESSING_KEY, 0, -1)
            with session_scope() as session:
                for item in raw:
                    try:
                        entry = LogEntry.from_json(item)
                    except (TypeError, ValueError):
                        log.error("dropping malformed call-log entry: %r", item[:200])
                        continue
                    apply_entry(session, entry)
            connection.delete(PROCESSING_KEY)
            written += len(raw)
    finally:
        lock.release()
    return written
