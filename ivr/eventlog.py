"""Webhook requests logged through Redis, written to the database later.

Almost every webhook answer depends only on the flow and on the state carried in the signed
action URL: a key press, a timeout, a dial result, a status or recording callback, the
first request of a call. Writing their call-log rows in the request would cost more than
answering, so each request pushes one entry to a Redis list (one round trip) and a drain
job writes them in batches, then hands newly completed recordings to transcription.

What a caller is told must be durable before Twilio hears back: the case number read back
after a voicemail is reserved in the database in the request (``cases.voicemail``), and
the drain files the reserved case. If Redis is unreachable the request writes everything
synchronously instead, so nothing is lost.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session

from call_flows.engine import LogEvent
from ivr import calllog
from ivr.models import CallEvent, Recording

log = logging.getLogger(__name__)

PENDING_KEY = "hotline:calllog:pending"
PROCESSING_KEY = "hotline:calllog:processing"
SCHEDULED_KEY = "hotline:calllog:drain-scheduled"
LOCK_KEY = "hotline:calllog:drain-lock"
# Entries the drain could not write, with their error; newest last, at most DEAD_MAX.
DEAD_KEY = "hotline:calllog:dead"
DEAD_MAX = 10_000
ERROR_MAX = 500
BATCH = 500
# At most one drain job is enqueued per this many seconds: enqueueing costs a webhook
# request more than answering it, so only one request in a few hundred pays for it.
DRAIN_EVERY_SECONDS = 3
# RPUSH the entry and, in the same round trip, claim the "drain job scheduled" flag.
_PUSH_SCRIPT = """
redis.call('RPUSH', KEYS[1], ARGV[1])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 1 end
return 0
"""


@dataclass
class LogEntry:
    """One webhook request: the events it produced and the call-state updates it made."""

    call_sid: str
    from_number: str
    to_number: str
    flow: str
    at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[str, str] = field(default_factory=dict)
    last_node: str | None = None
    # Twilio's CallStatus, CallDuration and Direction, when the request carried a status.
    status: dict[str, str] | None = None
    # RecordingSid, RecordingUrl, RecordingDuration and RecordingStatus of a recording.
    recording: dict[str, str] | None = None

    @classmethod
    def build(cls, *, call_sid: str, from_number: str, to_number: str, flow: str,
              at: datetime, events: list[LogEvent], updates: dict[str, str],
              last_node: str | None) -> LogEntry:
        return cls(call_sid, from_number, to_number, flow, at.isoformat(),
                   [{"kind": e.kind, "node": e.node, "input": e.input, "detail": e.detail}
                    for e in events],
                   dict(updates), last_node)

    def to_json(self) -> str:
        # Not dataclasses.asdict: it deep-copies, and this runs in every webhook request.
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> LogEntry:
        return cls(**json.loads(text))


class CallLogQueue:
    """Pushes entries and makes sure a drain job is on its way (one per few seconds).

    After a failed push the queue counts as down for ``RETRY_AFTER_SECONDS``: requests
    then take their synchronous path at once instead of each waiting for a timeout.
    """

    RETRY_AFTER_SECONDS = 5.0

    def __init__(self, connection: Redis, *, drain_queue: str,
                 drain_job: Callable[[], object]) -> None:
        self.connection = connection
        # The drain job (``ivr.jobs.drain_call_log``) and the RQ queue it goes to
        # (``core.queues.DEFAULT``); given by the app.
        self.drain_queue = drain_queue
        self.drain_job = drain_job
        self._push = connection.register_script(_PUSH_SCRIPT)
        self._down_until = 0.0

    def push(self, entry: LogEntry) -> None:
        if time.monotonic() < self._down_until:
            raise RedisConnectionError("the call log queue failed moments ago")
        try:
            self._push_and_schedule(entry)
        except RedisError:
            self._down_until = time.monotonic() + self.RETRY_AFTER_SECONDS
            raise

    def _push_and_schedule(self, entry: LogEntry) -> None:
        if self._push(keys=[PENDING_KEY, SCHEDULED_KEY],
                      args=[entry.to_json(), DRAIN_EVERY_SECONDS]):
            from rq import Queue

            Queue(self.drain_queue, connection=self.connection).enqueue(
                self.drain_job, result_ttl=0, failure_ttl=7 * 86400, description="drain call log"
            )


def apply_entry(session: Session, entry: LogEntry) -> Recording | None:
    """Write one entry; the call row is created if the first request never reached us.

    Returns the entry's recording when this entry made it ``completed`` (once per recording).
    """
    at = datetime.fromisoformat(entry.at)
    status = entry.status or {}
    call = calllog.get_or_create_call(
        session, entry.call_sid, now=at, from_number=entry.from_number,
        to_number=entry.to_number, direction=status.get("Direction") or "inbound",
        flow=entry.flow,
    )
    session.flush()
    if status.get("CallStatus"):
        calllog.apply_status(
            session, entry.call_sid, status["CallStatus"], now=at,
            duration=status.get("CallDuration"), call=call,
        )
    if entry.events or entry.updates or entry.last_node:
        calllog.log_events(session, call, [LogEvent(**e) for e in entry.events], at)
        latest = session.scalar(
            select(func.max(CallEvent.at)).where(CallEvent.call_id == call.id))
        # Entries may be written after later synchronous steps: never move last_node back.
        newest = latest is None or latest <= at
        calllog.apply_updates(call, entry.updates, entry.last_node if newest else None)
    if not entry.recording:
        return None
    update = calllog.upsert_recording(
        session, entry.recording["RecordingSid"], now=at, call_sid=entry.call_sid,
        url=entry.recording.get("RecordingUrl"),
        duration=entry.recording.get("RecordingDuration"),
        status=entry.recording.get("RecordingStatus"), call=call,
    )
    session.flush()
    return update.recording if update.newly_completed else None


def drain(connection: Redis, session_scope: Any,
          on_completed: Callable[[list[Recording]], None] | None = None) -> int:
    """Move pending entries to the database; returns how many were written.

    Entries are moved to a processing list before the write and removed only after the
    commit, so a drain killed halfway leaves them for the next one (at-least-once). A
    lock keeps two drains from sharing the processing list. ``on_completed`` gets the
    recordings each committed batch completed (to enqueue their transcription).

    One bad entry never blocks the others: when a batch fails for anything but an
    unreachable database, it is written again one entry per savepoint, and the entries
    that still fail go to the dead-letter list with their error (:func:`dead_letters`).
    """
    # From here on an entry pushed finds no drain scheduled and schedules the next one: this
    # drain may already be past the moment that entry arrives. (Left set, an entry pushed in
    # the rest of the push window waited for the periodic drain.)
    connection.delete(SCHEDULED_KEY)
    written = 0
    # An entry pushed while another drain held the lock may have come after that drain
    # looked for the last time: whoever releases the lock looks again.
    while connection.llen(PENDING_KEY) or connection.llen(PROCESSING_KEY):
        lock = connection.lock(LOCK_KEY, timeout=300, blocking=False)
        if not lock.acquire():
            return written
        try:
            written += _drain_locked(connection, session_scope, on_completed)
        finally:
            lock.release()
    return written


def _drain_locked(connection: Redis, session_scope: Any,
                  on_completed: Callable[[list[Recording]], None] | None) -> int:
    """One drain under the lock: batches until nothing is pending."""
    written = 0
    while True:
        if not connection.llen(PROCESSING_KEY):
            pipe = connection.pipeline(transaction=False)
            for _ in range(BATCH):
                pipe.lmove(PENDING_KEY, PROCESSING_KEY, "LEFT", "RIGHT")
            if not any(pipe.execute()):
                break
        raw = cast(list[bytes], connection.lrange(PROCESSING_KEY, 0, -1))
        try:
            completed, dead = _write_batch(session_scope, raw, isolate=False)
        except Exception as exc:
            if database_unavailable(exc):
                raise  # the whole batch stays in the processing list for the next run
            log.warning("call-log batch of %d failed (%s): writing entry by entry",
                        len(raw), exc)
            completed, dead = _write_batch(session_scope, raw, isolate=True)
        pipe = connection.pipeline(transaction=True)
        for item, error in dead:
            pipe.rpush(DEAD_KEY, _dead_letter(item, error))
        if dead:
            pipe.ltrim(DEAD_KEY, -DEAD_MAX, -1)
        pipe.delete(PROCESSING_KEY)
        pipe.execute()
        written += len(raw) - len(dead)
        if completed and on_completed is not None:
            on_completed(completed)
    return written


def database_unavailable(exc: BaseException) -> bool:
    """A failure of the database itself (down, locked, disconnected), not of an entry."""
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError
                      | SQLAlchemyTimeoutError)


def _write_batch(session_scope: Any, raw: list[bytes], *, isolate: bool
                 ) -> tuple[list[Recording], list[tuple[bytes, str]]]:
    """Write ``raw`` in one transaction; with ``isolate``, each entry in a savepoint."""
    completed: list[Recording] = []
    dead: list[tuple[bytes, str]] = []
    with session_scope() as session:
        for item in raw:
            try:
                entry = LogEntry.from_json(item)
            except (TypeError, ValueError) as exc:
                log.error("malformed call-log entry to the dead letters: %r", item[:200])
                dead.append((item, f"{type(exc).__name__}: {exc}"))
                continue
            if not isolate:
                recording = apply_entry(session, entry)
            else:
                try:
                    with session.begin_nested():
                        recording = apply_entry(session, entry)
                except Exception as exc:
                    if database_unavailable(exc):
                        raise
                    log.exception("call-log entry of call %s to the dead letters",
                                  entry.call_sid)
                    dead.append((item, f"{type(exc).__name__}: {exc}"))
                    continue
            if recording is not None:
                completed.append(recording)
    return completed, dead


def _dead_letter(item: bytes, error: str) -> str:
    text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
    return json.dumps({"entry": text, "error": error[:ERROR_MAX],
                       "at": datetime.now(UTC).isoformat(timespec="seconds")},
                      ensure_ascii=False)


@dataclass(frozen=True)
class DeadLetter:
    """A call-log entry the drain could not write, kept with its error."""

    entry: str
    error: str
    at: str

    @property
    def call_sid(self) -> str:
        try:
            return str(json.loads(self.entry).get("call_sid") or "")
        except (ValueError, AttributeError):
            return ""


def dead_letters(connection: Redis, limit: int = 100) -> tuple[int, list[DeadLetter]]:
    """How many entries are dead-lettered, and the newest ``limit`` of them (newest first)."""
    total = int(cast(int, connection.llen(DEAD_KEY)))
    letters = []
    newest = cast(list[bytes], connection.lrange(DEAD_KEY, -limit, -1)) if limit else []
    for raw in reversed(newest):
        try:
            data = json.loads(raw)
            letters.append(DeadLetter(str(data["entry"]), str(data["error"]), str(data["at"])))
        except (ValueError, KeyError, TypeError):
            letters.append(DeadLetter(raw.decode("utf-8", "replace"), "unreadable", ""))
    return total, letters


def requeue_dead_letters(connection: Redis) -> int:
    """Put every dead-lettered entry back in the pending list (after a fix); how many."""
    moved = 0
    while (raw := cast(bytes | None, connection.lpop(DEAD_KEY))) is not None:
        try:
            entry = json.loads(raw)["entry"]
        except (ValueError, KeyError, TypeError):
            continue
        connection.rpush(PENDING_KEY, entry)
        moved += 1
    return moved


def clear_dead_letters(connection: Redis) -> int:
    """Drop every dead-lettered entry; returns how many there were."""
    total = int(cast(int, connection.llen(DEAD_KEY)))
    connection.delete(DEAD_KEY)
    return total
