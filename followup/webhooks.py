"""What the survey webhooks do: the routes in ``followup.routes`` only parse and respond.

The start webhook is where Twilio asks what to play once the callee answered; after it, the
flow's own steps go through the generic ``/ivr/flow/survey/<node>`` route like any flow.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from call_flows.engine import LogEvent
from call_flows.hooks import CallContext
from call_flows.roles import SURVEY_FLOW
from cases.deadlines import calendar_for
from followup import calls
from followup.jobs import hand_off
from followup.policy import FollowUpPolicy
from ivr import calllog
from ivr.service import IvrRuntime
from workdays.calendar import WorkCalendar


def start(session: Session, runtime: IvrRuntime, followup_id: int | None,
          params: Mapping[str, str]) -> str:
    """The callee answered: a person hears the survey, an answering machine is hung up on."""
    now = runtime.clock()
    call = calllog.get_or_create_call(
        session, params["CallSid"], now=now, from_number=params.get("From", ""),
        to_number=params.get("To", ""), direction=params.get("Direction") or "outbound-api",
        flow=SURVEY_FLOW,
    )
    calllog.apply_status(session, call.call_sid, params.get("CallStatus") or "in-progress",
                         now=now)
    session.flush()
    answered_by = params.get("AnsweredBy", "")
    attempt = calls.call_answered(session, followup_id, call_sid=call.call_sid,
                                      call_id=call.id, answered_by=answered_by, now=now)
    if attempt is None or calls.is_machine(answered_by):
        reason = "not a follow-up call" if attempt is None else f"answered by {answered_by}"
        calllog.log_events(session, call, [LogEvent("survey", None, answered_by or None,
                                                    f"no survey: {reason}")], now)
        response = VoiceResponse()
        response.hangup()
        return str(response)
    ctx = CallContext(call_sid=call.call_sid, from_number=call.from_number, now=now,
                      params=dict(params), services={**runtime.services, "call_id": call.id})
    result = runtime.engine.start(SURVEY_FLOW, ctx)
    calllog.log_events(session, call, result.events, now)
    calllog.apply_updates(call, result.updates, result.last_node)
    return str(result)


def status(session: Session, runtime: IvrRuntime, followup_id: int | None,
           params: Mapping[str, str], policy: FollowUpPolicy) -> None:
    """Status callback of a survey call: the call log, then the attempt's outcome."""
    now = runtime.clock()
    call_status = params.get("CallStatus", "")
    # Busy or unanswered calls never reach the start webhook: log them as survey calls too.
    calllog.get_or_create_call(session, params["CallSid"], now=now, to_number=params.get("To", ""),
                               from_number=params.get("From", ""), direction="outbound-api",
                               flow=SURVEY_FLOW)
    calllog.apply_status(
        session, params["CallSid"], call_status, now=now, duration=params.get("CallDuration"),
        from_number=params.get("From", ""), to_number=params.get("To", ""),
        direction=params.get("Direction") or "outbound-api",
    )
    session.flush()
    attempt = calls.call_finished(
        session, followup_id, call_sid=params["CallSid"], call_status=call_status,
        answered_by=params.get("AnsweredBy"), now=now, policy=policy,
        calendar=_calendar(runtime, session),
    )
    if attempt is not None:
        hand_off(session, attempt.followup)  # a retry later, at its time


def _calendar(runtime: IvrRuntime, session: Session) -> WorkCalendar:
    provider = runtime.services.get("calendars")
    return provider.get() if provider is not None else calendar_for(session)
