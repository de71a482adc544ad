"""What each webhook does, in plain values: the routes only parse and respond."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from call_flows.engine import FlowEngine, StepResult
from call_flows.hooks import CallContext
from ivr import calllog
from ivr.models import Call, Recording

log = logging.getLogger(__name__)


@dataclass
class IvrRuntime:
    """Everything a webhook needs besides the request: engine, clock and collaborators."""

    engine: FlowEngine
    clock: Callable[[], datetime]
    services: dict[str, Any]
    # Called after commit with each recording that just completed (enqueues transcription).
    on_recording_completed: Callable[[Recording], None] | None = None


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
    return str(result.twiml)


def incoming_call(session: Session, runtime: IvrRuntime, params: Mapping[str, str]) -> str:
    """A new call (or Twilio's retry of it): log it and answer with the flow's start."""
    now = runtime.clock()
    call = calllog.get_or_create_call(
        session,
        params["CallSid"],
        now=now,
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        direction=params.get("Direction", "inbound"),
    )
    calllog.apply_status(session, call.call_sid, params.get("CallStatus") or "ringing", now=now)
    session.flush()
    result = runtime.engine.start(call.flow, _context(call, params, runtime, now))
    return _store(session, call, result, now)


def flow_step(
    session: Session,
    runtime: IvrRuntime,
    flow: str,
    node: str,
    event: str,
    params: Mapping[str, str],
    counters: Mapping[str, int],
) -> str:
    """Twilio came back to ``node`` with a key press, a timeout, a dial or a record result."""
    now = runtime.clock()
    call = calllog.get_or_create_call(
        session, params["CallSid"], now=now, from_number=params.get("From", ""),
        to_number=params.get("To", ""), flow=flow,
    )
    session.flush()
    if event == "record" and params.get("RecordingSid"):
        # The action request can beat the status callback: keep the row either way.
        calllog.upsert_recording(
            session, params["RecordingSid"], now=now, call_sid=call.call_sid,
            url=params.get("RecordingUrl"), duration=params.get("RecordingDuration"),
        )
        session.flush()
    result = runtime.engine.advance(
        flow, node, event, _context(call, params, runtime, now),
        digits=params.get("Digits"),
        no_input=counters.get("ni", 0),
        invalid=counters.get("inv", 0),
    )
    return _store(session, call, result, now)


def status_callback(session: Session, runtime: IvrRuntime, params: Mapping[str, str]) -> Call:
    return calllog.apply_status(
        session,
        params["CallSid"],
        params.get("CallStatus", ""),
        now=runtime.clock(),
        duration=params.get("CallDuration"),
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        direction=params.get("Direction", "inbound"),
    )


def recording_callback(
    session: Session, runtime: IvrRuntime, params: Mapping[str, str]
) -> calllog.RecordingUpdate:
    return calllog.upsert_recording(
        session,
        params["RecordingSid"],
        now=runtime.clock(),
        call_sid=params.get("CallSid"),
        url=params.get("RecordingUrl"),
        duration=params.get("RecordingDuration"),
        status=params.get("RecordingStatus", "completed"),
    )
