"""The queue's Twilio webhooks, under ``/ivr/queue/`` (docs/queue.md, "Webhooks").

Thin: the signature is checked, the form parsed, one domain function called, the change
committed (and then published and rung), the TwiML built by ``call_flows.queue_twiml``.
Each has a safe answer that needs neither the database nor Redis: a waiting caller keeps
hearing hold music, an operator is told the call cannot be connected.

- ``wait``: the ``<Enqueue>`` waitUrl (position, estimate, keys, hold music, ``<Leave>``)
- ``key``: a key pressed while waiting (1 预约回电, 2 voicemail)
- ``offer/<id>/answer``, ``…/status``: the operator's leg (its Url and status callback)
- ``offer/<id>/bridge``: the ``<Queue url>``, on the caller's leg just before connecting
- ``offer/<id>/dialed``: the operator leg's ``<Dial>`` action (the conversation is over)
- ``offer/<id>/recording``: the recorded conversation (kept as the call's operator recording)
- ``hold.wav``: the hold music (GET, not a webhook: no caller data, cacheable)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from call_flows import queue_twiml
from call_flows.engine import VoiceSettings
from callqueue import offers, waiting
from callqueue import queue as callers
from callqueue.hold_audio import hold_etag, hold_wav
from callqueue.runtime import Changes, QueueRuntime
from cases.vocab import CATEGORY_LABELS
from core import twilio_fields
from core.clock import fixed_clock
from core.db import db
from core.twilio_signature import twilio_signed
from ivr import service as ivr_service
from ivr import simulated_time
from ivr.routes import never_fails
from ivr.service import IvrRuntime

bp = Blueprint("queue", __name__, url_prefix="/ivr/queue")


def _runtime() -> QueueRuntime:
    runtime: QueueRuntime = current_app.extensions["queue_runtime"]
    # ``flask call --at URL`` on a local server: the call's time, as for the IVR's steps.
    simulated = simulated_time.honoured_time(
        current_app.config, value=request.headers.get(simulated_time.HEADER),
        remote_addr=request.remote_addr, call_sid=request.form.get("CallSid", ""))
    if simulated is not None:
        return dataclasses.replace(runtime, clock=fixed_clock(simulated))
    return runtime


def _voice() -> VoiceSettings:
    ivr: IvrRuntime = current_app.extensions["ivr_runtime"]
    return ivr.engine.settings


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _done(changes: Changes) -> None:
    _runtime().commit(db.session, changes)


def _call_sid() -> str:
    sid = (request.form.get("CallSid") or "").strip()[:64]
    if not sid:
        raise ValueError("queue webhook without CallSid")
    return sid


def _twiml_fallback(build: Callable[[VoiceSettings], VoiceResponse]) -> Callable[[], Response]:
    return lambda: _twiml(build(_voice()))


def _no_content() -> Response:
    return Response(status=204)


@bp.post("/wait")
@twilio_signed
@never_fails(_twiml_fallback(queue_twiml.hold))
def wait() -> Response:
    runtime = _runtime()
    call_sid, now = _call_sid(), runtime.now()
    # Nearly always only reads: on the webhooks' pool (no ping, no transaction to begin and
    # commit). When something must change, the queue's own way, under its lock.
    info = db.run_quick(lambda conn: waiting.wait_read(conn, runtime, call_sid=call_sid,
                                                       now=now))
    if info is None:
        info = waiting.wait(db.session, runtime, call_sid=call_sid, now=now)
        runtime.commit(db.session, info.changes)
    voice = _voice()
    if info.answer == waiting.WaitAnswer.WAIT and info.position is not None:
        return Response(queue_twiml.wait_xml(voice, position=info.position,
                                             estimate_minutes=info.estimate_minutes),
                        mimetype="text/xml")
    if info.answer == waiting.WaitAnswer.LEAVE:
        return _twiml(queue_twiml.leave())
    if info.answer == waiting.WaitAnswer.CONNECTING:
        return _twiml(queue_twiml.connecting(voice))
    return _twiml(queue_twiml.hold(voice))


@bp.post("/key")
@twilio_signed
@never_fails(_twiml_fallback(queue_twiml.hold))
def key() -> Response:
    runtime = _runtime()
    answer, changes = callers.pressed(db.session, runtime, call_sid=_call_sid(),
                                      digits=request.form.get("Digits", ""), now=runtime.now())
    _done(changes)
    if answer == callers.KeyAnswer.LEAVE:
        return _twiml(queue_twiml.leave())
    return _twiml(queue_twiml.key_again(_voice()))


def _live_leg(plan: offers.AnswerPlan) -> queue_twiml.LiveLeg | None:
    """The operator's leg streams the conversation for the live transcript (docs/live.md)."""
    if not plan.caller_call_sid:
        return None
    return queue_twiml.LiveLeg(plan.caller_call_sid, plan.agent_id)


@bp.post("/offer/<int:offer_id>/answer")
@twilio_signed
@never_fails(_twiml_fallback(queue_twiml.operator_sorry))
def offer_answer(offer_id: int) -> Response:
    runtime = _runtime()
    plan = offers.answered(db.session, runtime, offer_id, call_sid=_call_sid(),
                           now=runtime.now())
    _done(plan.changes)
    voice = _voice()
    label = CATEGORY_LABELS.get(plan.area, plan.area)
    if plan.kind == offers.AnswerKind.QUEUE:
        return _twiml(queue_twiml.operator_queue(voice, offer_id=plan.offer_id,
                                                 area_label=label,
                                                 waited_seconds=plan.waited_seconds,
                                                 queue=plan.queue, live=_live_leg(plan)))
    if plan.kind == offers.AnswerKind.DIAL:
        return _twiml(queue_twiml.operator_callback(voice, offer_id=plan.offer_id,
                                                    area_label=label, target=plan.dial,
                                                    live=_live_leg(plan)))
    return _twiml(queue_twiml.operator_gone(voice))


@bp.post("/offer/<int:offer_id>/status")
@twilio_signed
@never_fails(_no_content)
def offer_status(offer_id: int) -> Response:
    runtime = _runtime()
    changes = offers.operator_status(
        db.session, runtime, offer_id, call_status=(request.form.get("CallStatus") or "")[:32],
        call_sid=_call_sid(), now=runtime.now())
    _done(changes)
    return _no_content()


@bp.post("/offer/<int:offer_id>/bridge")
@twilio_signed
@never_fails(_twiml_fallback(lambda _voice: queue_twiml.empty()))
def offer_bridge(offer_id: int) -> Response:
    runtime = _runtime()
    done = offers.bridged(db.session, runtime, offer_id, caller_call_sid=_call_sid(),
                          now=runtime.now())
    _done(done.changes)
    return _twiml(queue_twiml.bridging(_voice()))


@bp.post("/offer/<int:offer_id>/dialed")
@twilio_signed
@never_fails(_twiml_fallback(lambda _voice: queue_twiml.hang_up()))
def offer_dialed(offer_id: int) -> Response:
    runtime = _runtime()
    changes = offers.dialed(db.session, runtime, offer_id,
                            dial_status=(request.form.get("DialCallStatus") or "")[:32],
                            duration=twilio_fields.seconds(request.form.get("DialCallDuration")),
                            now=runtime.now())
    _done(changes)
    return _twiml(queue_twiml.hang_up())


@bp.post("/offer/<int:offer_id>/recording")
@twilio_signed
@never_fails(_no_content)
def offer_recording(offer_id: int) -> Response:
    """The conversation's recording is the caller's call's operator recording."""
    params = {key: value for key, value in request.form.items()}
    if not params.get("RecordingSid"):
        return Response("RecordingSid is required\n", status=400, mimetype="text/plain")
    caller = offers.caller_of(db.session, offer_id)
    if caller is not None:
        params["CallSid"] = caller
    ivr: IvrRuntime = current_app.extensions["ivr_runtime"]
    update = ivr_service.recording_callback(db.session, ivr, params, kind="operator")
    db.session.commit()
    if update is not None and update.newly_completed and ivr.on_recording_completed:
        ivr.on_recording_completed(update.recording)
    return _no_content()


@bp.get("/hold.wav")
def hold_audio() -> Response:
    etag = hold_etag()
    if request.if_none_match.contains(etag):
        return Response(status=304)
    response = Response(hold_wav(), mimetype="audio/wav")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
