"""Twilio webhooks. Thin: validate, parse, call one service function, commit, respond."""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from call_flows.engine import FlowEngine
from core import twilio_fields
from core.clock import fixed_clock
from core.db import db
from core.twilio_signature import twilio_signed
from ivr import service, simulated_time
from ivr.redact import redacted
from ivr.service import IvrRuntime

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/ivr")


def _runtime() -> IvrRuntime:
    runtime: IvrRuntime = current_app.extensions["ivr_runtime"]
    # ``flask call --at URL``: a local server lets the terminal phone choose the call's time.
    simulated = simulated_time.honoured_time(
        current_app.config, value=request.headers.get(simulated_time.HEADER),
        remote_addr=request.remote_addr, call_sid=request.form.get("CallSid", ""))
    if simulated is not None:
        return dataclasses.replace(runtime, clock=fixed_clock(simulated))
    return runtime


def _twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _apology() -> Response:
    runtime = _runtime()
    try:
        view = request.view_args or {}
        runtime.apologies.record(runtime.call_log, _form(), flow=view.get("flow", "hotline"),
                                 node=view.get("node"), now=runtime.clock(),
                                 reason=f"{request.path}: {_failure()}")
    except Exception:  # the apology itself must never fail
        log.exception("could not record the apology")
    return _twiml(str(FlowEngine.apology(runtime.engine.settings)))


def _failure() -> str:
    """The exception being handled, in a word (for the call log)."""
    exc = sys.exc_info()[1]
    return type(exc).__name__ if exc is not None else "error"


def _form() -> dict[str, str]:
    return {key: value for key, value in request.form.items()}


def _commit() -> None:
    """Commit the request's session, if the request used one (most steps never do); then
    write apologies answered while the database was away (``ivr.apologies``)."""
    if db.session.registry.has():
        db.session.commit()
    apologies = _runtime().apologies
    if len(apologies):
        apologies.flush(db.session)


def never_fails(
    fallback: Callable[[], Response],
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Never a 500 to a caller: on any error roll back and answer with ``fallback()``."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            try:
                return view(*args, **kwargs)
            except Exception:
                log.exception("IVR webhook failed: %s %s", request.path, redacted(request.form))
                db.session.rollback()
                return fallback()

        return wrapper

    return decorate


# The hotline's own webhooks apologise and take a voicemail instead.
twiml_safe = never_fails(_apology)


def _counter(name: str) -> int:
    return twilio_fields.ascii_int(request.args.get(name), limit=99) or 0


@bp.post("/voice")
@twilio_signed
@twiml_safe
def voice() -> Response:
    params = _form()
    if not params.get("CallSid"):
        raise ValueError("incoming call without CallSid")
    body = service.incoming_call(db.session, _runtime(), params)
    _commit()
    return _twiml(body)


@bp.post("/flow/<flow>/<node>")
@twilio_signed
@twiml_safe
def flow_step(flow: str, node: str) -> Response:
    params = _form()
    if not params.get("CallSid"):
        raise ValueError("flow step without CallSid")
    event = request.args.get("event", "enter")
    counters = {"ni": _counter("ni"), "inv": _counter("inv")}
    state = service.url_state(request.args)
    body = service.flow_step(db.session, _runtime(), flow, node, event, params, counters,
                             state)
    _commit()
    return _twiml(body)


@bp.post("/status")
@twilio_signed
def status() -> Response:
    params = _form()
    if not params.get("CallSid") or not params.get("CallStatus"):
        return Response("CallSid and CallStatus are required\n", status=400, mimetype="text/plain")
    service.status_callback(db.session, _runtime(), params)
    _commit()
    return Response(status=204)


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    params = _form()
    if not params.get("RecordingSid"):
        return Response("RecordingSid is required\n", status=400, mimetype="text/plain")
    kind = "operator" if request.args.get("kind") == "operator" else "voicemail"
    update = service.recording_callback(db.session, _runtime(), params, kind=kind)
    _commit()
    runtime = _runtime()
    if update is not None and update.newly_completed \
            and runtime.on_recording_completed is not None:
        runtime.on_recording_completed(update.recording)
    return Response(status=204)


@bp.post("/fallback")
@twilio_signed
def fallback() -> Response:
    """Twilio's fallbackUrl: static, touches no database, still takes the voicemail.

    Also the action of that voicemail's ``<Record>`` (``?recorded=1``): goodbye and hang up.
    The recording itself reaches us through its status callback and is filed as a case.
    """
    if request.args.get("recorded"):
        return _twiml(str(FlowEngine.goodbye(_runtime().engine.settings)))
    return _apology()
