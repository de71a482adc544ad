"""The cases package's IVR hooks: voicemail case numbers, case status, open-case greeting.

Hooks run inside the webhook request and use its session (``db.session``); the route commits.
The two that run on every call's hot path (the greeting's open-case count and the deferred
voicemail reservation) use a connection of their own in autocommit instead.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from call_flows.hooks import CalendarSource, CallContext, HookRegistry, HookResult
from call_flows.workdays import WorkCalendar
from cases import speech
from cases.call_log import call_log
from cases.deadlines import hotline_tz
from cases.numbering import looks_like_number
from cases.queries import (
    case_by_number,
    count_open_cases_for_caller,
    filed_from,
    unsettled_cases_for_caller,
)
from cases.voicemail import file_voicemail, reserve_voicemail, reserve_voicemail_now
from core.db import db

log = logging.getLogger(__name__)


def _calendar(ctx: CallContext) -> WorkCalendar | None:
    provider: CalendarSource | None = ctx.services.get("calendars")
    return provider.get() if provider is not None else None


def _tz(ctx: CallContext) -> ZoneInfo:
    return ctx.services.get("tz") or hotline_tz()


def _today(ctx: CallContext) -> date:
    return ctx.now.astimezone(_tz(ctx)).date()


def voicemail_saved(ctx: CallContext, _digits: str | None) -> HookResult:
    """At the ``<Record>`` action: reserve the case number, read it back, file unless deferred.

    With ``defer_voicemail_filing`` the request only reserves, committed at once (a single
    autocommit statement on PostgreSQL; the job files the case), and needs neither the call
    id, the recording row nor the request's session.
    """
    session = db.session
    sid = ctx.params.get("RecordingSid", "")
    if not sid:
        log.warning("voicemail_saved: no RecordingSid (call %s)", ctx.call_sid)
        return HookResult()
    deferred = bool(ctx.services.get("defer_voicemail_filing"))
    try:
        if deferred:
            # Committed on a connection of its own before the number is read back: the job
            # that files the case must find it, and nothing else in the request writes.
            details = _reservation_details(ctx, sid)
            reservation = db.run_quick(lambda conn: reserve_voicemail_now(conn, **details))
        else:
            # Here the transaction also holds the call log, which a failure must not cost.
            with session.begin_nested():
                reservation = reserve_voicemail(session, **_reservation_details(ctx, sid))
    except Exception:
        log.exception("voicemail_saved: could not reserve a case number for recording %s", sid)
        return HookResult()
    if not deferred:
        _file_now(ctx, sid)
    return HookResult(prompts=[speech.filed_prompt(reservation.case_number,
                                                   linked=reservation.linked)])


def _reservation_details(ctx: CallContext, sid: str) -> dict[str, Any]:
    return {
        "recording_sid": sid,
        "call_sid": ctx.call_sid,
        "caller": ctx.from_number,
        "category": ctx.state.get("category"),
        "subcategory": ctx.state.get("subcategory"),
        "now": ctx.now,
        "tz": _tz(ctx),
    }


def _file_now(ctx: CallContext, sid: str) -> None:
    """File the reserved case in the request (no job to defer it to)."""
    session = db.session
    recording_id = call_log().recording_id(session, sid)
    if recording_id is None:
        # The reservation stands: the filing job or the transcript files it.
        log.warning("voicemail_saved: no recording row for %r (call %s)", sid, ctx.call_sid)
        return
    try:
        # A failure here must not cost the caller the call log or the recording row; the
        # reservation stays unfiled and is filed later (job, or the transcript).
        with session.begin_nested():
            file_voicemail(
                session,
                recording_id=recording_id,
                call_id=ctx.services.get("call_id"),
                caller=ctx.from_number,
                category=ctx.state.get("category"),
                subcategory=ctx.state.get("subcategory"),
                now=ctx.now,
                calendar=_calendar(ctx),
                tz=_tz(ctx),
                recording_sid=sid,
            )
    except Exception:
        log.exception("voicemail_saved: could not file recording %s", sid)


# Nodes of the hotline flow the look-up hooks send the call to.
MAIN_MENU = "main_menu"
LOOKUP_STATE = "lookup_case"


def caller_case_status(ctx: CallContext, _digits: str | None) -> HookResult:
    """Key 9 from the number that filed: the newest three unsettled cases, without typing."""
    cases, total = unsettled_cases_for_caller(db.session, ctx.from_number)
    if not cases:
        return HookResult()
    return HookResult(prompts=[speech.caller_cases_prompt(cases, total, _today(ctx))])


def case_status(ctx: CallContext, digits: str | None) -> HookResult:
    """Key 9, a typed case number: read out at once to the phone that filed it; from any other
    phone nothing is said before the contact phone's last four digits are given (whether
    the number exists or not). ``*`` goes back to the main menu."""
    number = (digits or "").strip()
    if number and set(number) == {"*"}:
        return HookResult(next=MAIN_MENU)
    if not looks_like_number(number):
        return HookResult(invalid=True, prompts=[speech.NUMBER_MALFORMED])
    case = case_by_number(db.session, number)
    if case is not None and filed_from(db.session, case, ctx.from_number):
        return HookResult(prompts=[speech.lookup_prompt(case, _today(ctx))], next=MAIN_MENU)
    # The node's next step asks for the last four digits; the number travels in the URL.
    return HookResult(updates={LOOKUP_STATE: number})


def _last_four(phone: str | None) -> str | None:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def case_status_verified(ctx: CallContext, digits: str | None) -> HookResult:
    """The last four digits of the case's contact phone: right → the status; wrong → another
    try (three wrong tries end the look-up, per the node's ``invalid`` rule)."""
    entered = (digits or "").strip()
    if entered and set(entered) == {"*"}:
        return HookResult(updates={LOOKUP_STATE: ""})
    number = ctx.state.get(LOOKUP_STATE, "")
    case = case_by_number(db.session, number) if looks_like_number(number) else None
    expected = _last_four(case.contact_phone) if case is not None else None
    if case is None or expected is None or entered != expected:
        return HookResult(invalid=True, prompts=[speech.VERIFY_WRONG])
    return HookResult(prompts=[speech.lookup_prompt(case, _today(ctx))],
                      updates={LOOKUP_STATE: ""})


def caller_open_cases(ctx: CallContext, _digits: str | None) -> HookResult:
    """Tell a caller with open cases about them first; key 9 of the main menu looks them up."""
    # Read-only and at every call's greeting: outside the request's transaction, in
    # autocommit, it costs one round trip instead of four (ping, BEGIN, SELECT, COMMIT).
    count = db.run_quick(lambda conn: count_open_cases_for_caller(conn, ctx.from_number))
    return HookResult(prompts=[speech.open_cases_prompt(count)] if count else [])


def register(registry: HookRegistry) -> None:
    """Called by the app factory (``HOOK_PROVIDERS``)."""
    registry.hook("voicemail_saved")(voicemail_saved)
    registry.hook("case_status")(case_status)
    registry.hook("caller_case_status")(caller_case_status)
    registry.hook("case_status_verified")(case_status_verified)
    registry.hook("caller_open_cases")(caller_open_cases)
