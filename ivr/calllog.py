"""Writing the call log: idempotent, out-of-order-safe upserts keyed on Twilio's SIDs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.engine import LogEvent
from core import twilio_fields
from core.dialect import insert_or_ignore, is_sqlite
from ivr.models import FINAL_STATUSES, INBOUND_FLOW, STATUS_RANK, Call, CallEvent, Recording

SID_MAX = 64


def _clean(value: str | None, limit: int = SID_MAX) -> str:
    return (value or "").strip()[:limit]


def get_or_create_call(
    session: Session,
    call_sid: str,
    *,
    now: datetime,
    from_number: str = "",
    to_number: str = "",
    direction: str = "inbound",
    flow: str = INBOUND_FLOW,
) -> Call:
    """The call for ``call_sid``, created if this is the first we hear of it."""
    call_sid = _clean(call_sid)
    # SQLite: write first. A deferred SQLite transaction that reads and then writes fails at
    # once when another process (a worker) committed in between; one that starts with a
    # write waits for the lock instead. PostgreSQL reads first (the common case: one SELECT).
    call = None if is_sqlite(session) else session.scalars(
        select(Call).where(Call.call_sid == call_sid)).one_or_none()
    if call is not None:
        if from_number and not call.from_number:
            call.from_number = _clean(from_number)
        return call
    # A duplicate first request can race us: ON CONFLICT makes the insert a no-op for the
    # loser, in one round trip and without a savepoint, and both then read the same row.
    values = {
        "call_sid": call_sid, "from_number": _clean(from_number),
        "to_number": _clean(to_number), "direction": _clean(direction, 32) or "inbound",
        "flow": flow, "status": "ringing", "started_at": now, "reached_operator": False,
    }
    call = session.scalars(
        insert_or_ignore(session, Call, values, index_elements=["call_sid"]).returning(Call),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if call is None:
        call = session.scalars(select(Call).where(Call.call_sid == call_sid)).one()
        if from_number and not call.from_number:
            call.from_number = _clean(from_number)
    return call


def log_events(session: Session, call: Call, events: list[LogEvent], now: datetime) -> None:
    for event in events:
        session.add(
            CallEvent(
                call=call,
                kind=event.kind,
                node=event.node,
                input=_clean(event.input) or None,
                detail=event.detail,
                at=now,
            )
        )


def apply_updates(call: Call, updates: dict[str, str], last_node: str | None) -> None:
    if "category" in updates:
        call.category = updates["category"]
        # A new top-level choice without a sub-area clears an older sub-area.
        call.subcategory = updates.get("subcategory")
    elif "subcategory" in updates:
        call.subcategory = updates["subcategory"]
    if updates.get("reached_operator"):
        call.reached_operator = True
    if last_node:
        call.last_node = last_node


def apply_status(
    session: Session,
    call_sid: str,
    status: str,
    *,
    now: datetime,
    duration: str | None = None,
    from_number: str = "",
    to_number: str = "",
    direction: str = "inbound",
    call: Call | None = None,
) -> Call:
    """Apply a status callback; a late or repeated callback never moves a call backwards."""
    if call is None:
        call = get_or_create_call(
            session, call_sid, now=now, from_number=from_number, to_number=to_number,
            direction=direction,
        )
    status = _clean(status, 32)
    new_rank = STATUS_RANK.get(status)
    if new_rank is None:
        log_events(session, call, [LogEvent("status", None, None, f"unknown status {status!r}")],
                   now)
        return call
    current_rank = STATUS_RANK.get(call.status, -1)
    if new_rank > current_rank:
        log_events(session, call, [LogEvent("status", None, status)], now)
        call.status = status
        if status == "in-progress" and call.answered_at is None:
            call.answered_at = now
        if status in FINAL_STATUSES:
            seconds = twilio_fields.seconds(duration)
            call.duration = seconds
            call.ended_at = now
            if seconds is not None and call.answered_at is None:
                call.answered_at = now - timedelta(seconds=seconds)
    return call


@dataclass
class RecordingUpdate:
    recording: Recording
    created: bool
    # True exactly once per recording: when it first becomes ``completed``.
    newly_completed: bool


def upsert_recording(
    session: Session,
    recording_sid: str,
    *,
    now: datetime,
    call_sid: str | None = None,
    url: str | None = None,
    duration: str | None = None,
    status: str | None = None,
    call: Call | None = None,
    kind: str = "voicemail",
) -> RecordingUpdate:
    """Create or update the recording row; repeated callbacks create nothing new."""
    recording_sid = _clean(recording_sid)
    by_sid = select(Recording).where(Recording.recording_sid == recording_sid)
    # SQLite writes first (see get_or_create_call): the call row takes the write lock.
    if is_sqlite(session) and call is None and call_sid:
        call = get_or_create_call(session, call_sid, now=now)
    recording = session.scalars(by_sid).one_or_none()
    created = False
    if recording is None:
        if call is None and call_sid:
            call = get_or_create_call(session, call_sid, now=now)
        values = {
            "recording_sid": recording_sid, "call_id": call.id if call else None,
            "url": (url or "").strip(), "status": "in-progress", "created_at": now,
            "updated_at": now, "transcription_status": "pending", "attempts": 0,
            "duration": twilio_fields.seconds(duration), "kind": kind,
        }
        # ON CONFLICT: a concurrent duplicate callback inserts nothing and reads our row.
        inserted = session.execute(
            insert_or_ignore(session, Recording, values, index_elements=["recording_sid"])
            .returning(Recording.id)
        ).scalar_one_or_none()
        created = inserted is not None
        recording = session.scalars(by_sid).one()
    if url and not recording.url:
        recording.url = url.strip()
    if twilio_fields.seconds(duration) is not None:
        recording.duration = twilio_fields.seconds(duration)
    newly_completed = False
    status = _clean(status, 32)
    if status and recording.status != "completed":
        newly_completed = status == "completed"
        recording.status = status
    return RecordingUpdate(recording, created, newly_completed)
