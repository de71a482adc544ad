"""Twilio webhooks of the satisfaction survey calls (docs/decisions.md §5: under
``/ivr/survey/``).

``/ivr/survey/start?followup=<id>`` is the call's Url, ``/ivr/survey/status?followup=<id>``
its status callback; the survey's own steps use the generic ``/ivr/flow/survey/<node>``.
Thin: validate the signature, parse, call one service function, commit, respond.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from core import twilio_fields
from core.db import db
from core.twilio_signature import twilio_signed
from followup import webhooks as survey
from followup.policy import FollowUpPolicy
from ivr.routes import never_fails
from ivr.service import IvrRuntime

log = logging.getLogger(__name__)
bp = Blueprint("survey", __name__, url_prefix="/ivr/survey")
SORRY = "抱歉，系统暂时无法完成回访，我们稍后会再与您联系。再见。"


def _sorry() -> Response:
    settings = _runtime().engine.settings
    response = VoiceResponse()
    response.say(SORRY, voice=settings.voice, language=settings.language)
    response.hangup()
    return Response(str(response), mimetype="text/xml")


# Never a 500 to the callee: apologise and hang up (the attempt is retried later).
survey_safe = never_fails(_sorry)


def _runtime() -> IvrRuntime:
    return current_app.extensions["ivr_runtime"]


def _followup_id() -> int | None:
    raw = request.args.get("followup", "")
    return twilio_fields.ascii_int(raw, limit=2**62) if len(raw) < 18 else None


def _form() -> dict[str, str]:
    return {key: value for key, value in request.form.items()}


@bp.post("/start")
@twilio_signed
@survey_safe
def start() -> Response:
    params = _form()
    if not params.get("CallSid"):
        raise ValueError("survey start without CallSid")
    body = survey.start(db.session, _runtime(), _followup_id(), params)
    db.session.commit()
    return Response(body, mimetype="text/xml")


@bp.post("/status")
@twilio_signed
def status() -> Response:
    params = _form()
    if not params.get("CallSid") or not params.get("CallStatus"):
        return Response("CallSid and CallStatus are required\n", status=400, mimetype="text/plain")
    policy = FollowUpPolicy.from_config(current_app.config)
    survey.status(db.session, _runtime(), _followup_id(), params, policy)
    db.session.commit()
    return Response(status=204)
