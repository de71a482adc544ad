"""What each webhook does, in plain values: the routes only parse and respond."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.engine import STATE_PARAMS, FlowEngine, StepResult
from call_flows.hooks import CallContext, HookServices
from core import twilio_fields
from ivr import calllog
from ivr.apologies import ApologyLog
from ivr.eventlog import CallLogQueue, LogEntry
from ivr.models import INBOUND_FLOW, Call, Recording

log = logging.getLogger(__name__)
# Steps whose answer needs no call row: they may be logged through Redis (ivr.eventlog).
# A recorded voicemail is one too: its case number is reserved, the case filed later.
DEFERRED_EVENTS = frozenset({"gather", "timeout", "empty", "enter", "dial", "record", "queue"})
# What each URL state value may look like (anything else is ignored).
_STATE_VALUES = {"category": re.compile(r"^[a-z_]{1,32}$"),
                 "subcategory": re.compile(r"^[a-z_]{1,32}$"),
                 "lookup_case": re.compile(r"^\d{10}$")}


@dataclass
class IvrRuntime:
    """Everything a webhook needs besides the request: engine, clock and collaborators."""

    engine: FlowEngine
    clock: Callable[[], datetime]
    services: HookServices
    # Called after commit with each recording that just completed (enqueues transcription).
    on_recording_completed: Callable[[Recording], None] | None = None
    # When set, menu steps are logged through Redis instead of in the request.
    call_log: CallLogQueue | None = None
    # Apologies answered while the database was away (ivr.apologies).
    apologies: ApologyLog = field(default_factory=ApologyLog)


def url_state(params: Mapping[str, str]) -> dict[str, str]:
    """Caller choices carried in the (signed) action URL; anything odd is ignored."""
    state = {}
    for key, param in STATE_PARAMS.items():
        value = params.get(param, "")
        pattern = _STATE_VALUES.get(key)
        if pattern is not None and pattern.match(value):
            state[key] = value
    return state


def _context(call: Call, params: Mapping[str, str], runtime: IvrRuntime, now: datetime
             ) -> CallContext:
    state = {k: v for k, v in (("category", call.category), ("subcategory", call.subcategory))
             if v}
    return CallContext(
        call_sid=call.call_sid,
        from_number=call.from_number,
        now=now,
        state=state,
        params=dict(params),
        services={**runtime.services, "call_id": call.id},
    )


def _store(session: Session, call: Call, result: StepResult, now: datetime) -> str:
    calllog.log_events(session, call, result.events, now)
    calllog.apply_updates(call, result.updates, result.last_node)
    return str(result)


def incoming_call(session: Session, runtime: IvrRuntime, params: Mapping[str, str]) -> str:
    """A new call (or Twilio's retry of it): log it and answer with the flow's start."""
    now = runtime.clock()
    if runtime.call_log is not None:
        answered = _deferred_start(session, runtime, params, now)
        if answered is not None:
            return answered
        _end_read_transaction(session)
    call = calllog.get_or_create_call(
        session,
        params["CallSid"],
        now=now,
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        direction=params.get("Direction", "inbound"),
    )
    calllog.apply_status(session, call.call_sid, params.get("CallStatus") or "ringing", now=now,
                         call=call)
    session.flush()
    result = runtime.engine.start(call.flow, _context(call, params, runtime, now))
    return _store(session, call, result, now)


def _end_read_transaction(session: Session) -> None:
    """Before the synchronous path writes: end what the deferred attempt read.

    On SQLite a transaction that read and then writes fails at once ("database is locked")
    when another process wrote in between, instead of waiting for the lock; one that starts
    by writing waits. The deferred attempt only read (its reservation, if any, was committed
    on its own connection), so committing here loses nothing.
    """
    session.commit()


def _status_of(params: Mapping[str, str]) -> dict[str, str]:
    status = {k: params[k] for k in ("CallStatus", "Direction") if params.get(k)}
    return _with_seconds(status, params, "CallDuration")


def _recording_of(params: Mapping[str, str]) -> dict[str, str]:
    # The <Record> action carries no RecordingStatus; the status callback does.
    recording = {k: params[k] for k in ("RecordingSid", "RecordingUrl", "RecordingStatus")
                 if params.get(k)}
    return _with_seconds(recording, params, "RecordingDuration")


def _with_seconds(values: dict[str, str], params: Mapping[str, str], key: str
                  ) -> dict[str, str]:
    """Add a duration checked and clamped at the edge (``core.twilio_fields``); drop nonsense."""
    checked = twilio_fields.seconds_text(params.get(key))
    if checked is not None:
        values[key] = checked
    elif params.get(key):
        log.warning("ignoring %s=%r: not a duration in seconds", key, params[key][:40])
    return values


def _deferred_start(session: Session, runtime: IvrRuntime, params: Mapping[str, str],
                    now: datetime) -> str | None:
    """Answer the first request from the flow; the call row is written by the drain."""
    ctx = _lazy_context(session, runtime, params, {}, now)
    result = runtime.engine.start(INBOUND_FLOW, ctx)
    entry = _entry(params, INBOUND_FLOW, now, result)
    entry.status = {"CallStatus": "ringing", **_status_of(params)}
    return str(result) if _pushed(runtime, entry) else None


def flow_step(
    session: Session,
    runtime: IvrRuntime,
    flow: str,
    node: str,
    event: str,
    params: Mapping[str, str],
    counters: Mapping[str, int],
    state: Mapping[str, str] | None = None,
) -> str:
    """Twilio came back to ``node`` with a key press, a timeout, a dial or a record result."""
    now = runtime.clock()
    if event in DEFERRED_EVENTS and runtime.call_log is not None:
        answered = _deferred_step(session, runtime, flow, node, event, params, counters, state,
                                  now)
        if answered is not None:
            return answered
        _end_read_transaction(session)
    call = calllog.get_or_create_call(
        session, params["CallSid"], now=now, from_number=params.get("From", ""),
        to_number=params.get("To", ""), flow=flow,
    )
    session.flush()
    if event == "record" and params.get("RecordingSid"):
        # The action request can beat the status callback: keep the row either way.
        calllog.upsert_recording(
            session, params["RecordingSid"], now=now, call_sid=call.call_sid,
            url=params.get("RecordingUrl"), duration=params.get("RecordingDuration"), call=call,
        )
        session.flush()
    ctx = _context(call, params, runtime, now)
    ctx.state.update(state or {})
    result = _advance(runtime, flow, node, event, ctx, counters)
    return _store(session, call, result, now)


def _advance(runtime: IvrRuntime, flow: str, node: str, event: str, ctx: CallContext,
             counters: Mapping[str, int]) -> StepResult:
    """The engine's answer to a step, with the keys and counters Twilio sent back."""
    return runtime.engine.advance(
        flow, node, event, ctx,
        digits=ctx.params.get("Digits"),
        no_input=counters.get("ni", 0),
        invalid=counters.get("inv", 0),
    )


class _OnDemandServices(dict[str, Any]):
    """Hook services whose ``call_id`` is looked up only if a hook asks for it."""

    def __init__(self, base: Mapping[str, Any], call_id: Callable[[], int | None]) -> None:
        super().__init__(base)
        self._call_id = call_id

    def _resolve(self, key: str) -> None:
        if key == "call_id" and key not in self:
            self["call_id"] = self._call_id()

    def get(self, key: str, default: Any = None) -> Any:
        self._resolve(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._resolve(key)
        return super().__getitem__(key)


def _lazy_context(session: Session, runtime: IvrRuntime, params: Mapping[str, str],
                  state: Mapping[str, str], now: datetime, **services: Any) -> CallContext:
    call_sid = params["CallSid"]
    return CallContext(
        call_sid=call_sid, from_number=params.get("From", ""), now=now,
        state=dict(state), params=dict(params),
        services=_OnDemandServices(
            {**runtime.services, **services},
            call_id=lambda: session.scalar(select(Call.id).where(Call.call_sid == call_sid)),
        ),
    )


def _entry(params: Mapping[str, str], flow: str, now: datetime, result: StepResult) -> LogEntry:
    return LogEntry.build(
        call_sid=params["CallSid"], from_number=params.get("From", ""),
        to_number=params.get("To", ""), flow=flow, at=now, events=result.events,
        updates=result.updates, last_node=result.last_node,
    )


def _pushed(runtime: IvrRuntime, entry: LogEntry) -> bool:
    assert runtime.call_log is not None
    try:
        runtime.call_log.push(entry)
    except RedisError as exc:
        log.warning("call log queue unavailable (%s): writing the step synchronously", exc)
        return False
    return True


def _deferred_step(
    session: Session,
    runtime: IvrRuntime,
    flow: str,
    node: str,
    event: str,
    params: Mapping[str, str],
    counters: Mapping[str, int],
    state: Mapping[str, str] | None,
    now: datetime,
) -> str | None:
    """Answer a step from the flow and the URL state; log it through Redis.

    Returns None when Redis is unreachable: the caller then takes the synchronous path
    (hooks are idempotent, so running the engine twice has no further effect).
    """
    recording = event == "record" and bool(params.get("RecordingSid"))
    ctx = _lazy_context(session, runtime, params, state or {}, now,
                        defer_voicemail_filing=recording)
    result = _advance(runtime, flow, node, event, ctx, counters)
    entry = _entry(params, flow, now, result)
    if recording:
        # The voicemail hook committed the case number the caller is about to hear before
        # it returned, so the drain (which files the case) finds it once it sees this entry.
        entry.recording = _recording_of(params)
    return str(result) if _pushed(runtime, entry) else None


def status_callback(session: Session, runtime: IvrRuntime, params: Mapping[str, str]) -> None:
    """Apply a call status change; through the Redis call log when it is configured."""
    now = runtime.clock()
    if runtime.call_log is not None:
        entry = LogEntry.build(
            call_sid=params["CallSid"], from_number=params.get("From", ""),
            to_number=params.get("To", ""), flow=INBOUND_FLOW, at=now, events=[], updates={},
            last_node=None,
        )
        entry.status = _status_of(params)
        if _pushed(runtime, entry):
            return
    calllog.apply_status(
        session,
        params["CallSid"],
        params.get("CallStatus", ""),
        now=now,
        duration=params.get("CallDuration"),
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        direction=params.get("Direction", "inbound"),
    )


def recording_callback(
    session: Session, runtime: IvrRuntime, params: Mapping[str, str], *,
    kind: str = "voicemail",
) -> calllog.RecordingUpdate | None:
    """Store a recording status callback; None when it went through the Redis call log.

    The drain then writes the row and enqueues the transcription of a completed recording.
    """
    now = runtime.clock()
    # An operator recording is rare and must keep its kind: written here, not via the log.
    if runtime.call_log is not None and params.get("CallSid") and kind == "voicemail":
        entry = LogEntry(call_sid=params["CallSid"], from_number="", to_number="",
                         flow=INBOUND_FLOW, at=now.isoformat())
        entry.recording = {"RecordingStatus": "completed", **_recording_of(params)}
        if _pushed(runtime, entry):
            return None
    return calllog.upsert_recording(
        session,
        params["RecordingSid"],
        now=now,
        call_sid=params.get("CallSid"),
        url=params.get("RecordingUrl"),
        duration=params.get("RecordingDuration"),
        status=params.get("RecordingStatus", "completed"),
        kind=kind,
    )
