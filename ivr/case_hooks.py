"""The cases package's IVR hooks: voicemail case numbers, case status, open-case greeting.

Hooks run inside the webhook request and use its session (``db.session``); the route commits.
The two that run on every call's hot path (the greeting's open-case count and the deferred
voicemail reservation) use a connection of their own in autocommit instead.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection

from call_flows.hooks import CalendarSource, CallContext, HookRegistry, HookResult, zone_of
from call_flows.roles import Role
from cases import lookup_guard
from cases.call_log import call_log
from cases.case_models import Case
from cases.enterprises import phone_or_none
from cases.notifications import Audience, NotificationKind, notify
from cases.numbering import looks_like_number
from cases.queries import (
    caller_enterprise_ids,
    case_by_number,
    case_for_lookup,
    count_open_cases_for_caller,
    lookup_owner,
    unsettled_cases_for_caller,
)
from cases.vocab import Status
from cases.voicemail import file_voicemail, reserve_voicemail, reserve_voicemail_now
from core.db import db
from core.dialect import is_sqlite
from ivr import speech
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)
T = TypeVar("T")


def _calendar(ctx: CallContext) -> WorkCalendar | None:
    provider: CalendarSource | None = ctx.services.get("calendars")
    return provider.get() if provider is not None else None


def _tz(ctx: CallContext) -> ZoneInfo:
    return zone_of(ctx.services)


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
    recording_id = call_log(session).recording_id(session, sid)
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


LOOKUP_STATE = "lookup_case"


def caller_case_status(ctx: CallContext, _digits: str | None) -> HookResult:
    """Key 9 from the number that filed: the newest three unsettled cases, without typing."""
    cases, total = unsettled_cases_for_caller(db.session, ctx.from_number)
    if not cases:
        return HookResult()
    return HookResult(prompts=[speech.caller_cases_prompt(cases, total, _today(ctx))])


def _on_counters(work: Callable[[Connection], T]) -> T:
    """Run ``work`` on key 9's counters (cases.lookup_guard): committed at once on their own
    connection on PostgreSQL; on SQLite in the request's transaction, committed with it."""
    if is_sqlite(db.session):
        return work(db.session.connection())

    def committed(conn: Connection) -> T:
        value = work(conn)
        conn.commit()
        return value

    return db.run_quick(committed)


def _read_case(case: Case, ctx: CallContext) -> str:
    """What key 9 says about ``case`` (a merged one: with the case it was merged into)."""
    target: Case | None = None
    current = case
    for _ in range(3):  # a case merged into one that was merged in turn
        if current.status != Status.MERGED or not current.merged_into_id:
            break
        found = case_for_lookup(db.session, current.merged_into_id)
        if found is None:
            break
        target = current = found
    return speech.lookup_prompt(case, _today(ctx), merged_into=target)


def case_status(ctx: CallContext, digits: str | None) -> HookResult:
    """Key 9, a typed case number: read out at once to a registered phone (the contact phone
    or one of its enterprise's); from any other phone nothing is said before the contact
    phone's last four digits are given (whether the number exists or not), unless this call
    or this caller has used up its tries (cases.lookup_guard). ``*`` goes back."""
    number = (digits or "").strip()
    if number and set(number) == {"*"}:
        return HookResult(next=Role.MAIN_MENU)
    if not looks_like_number(number):
        return HookResult(invalid=True, prompts=[speech.NUMBER_MALFORMED])
    # The same queries whether the case exists or not.
    owner = lookup_owner(db.session, number)
    enterprises = caller_enterprise_ids(db.session, ctx.from_number)
    caller = phone_or_none(ctx.from_number)
    if owner is not None and caller is not None and (
            owner[0] == caller or (owner[1] is not None and owner[1] in enterprises)):
        case = case_by_number(db.session, number)
        if case is not None:
            return HookResult(prompts=[_read_case(case, ctx)], next=Role.MAIN_MENU)
    if _on_counters(lambda conn: lookup_guard.spent(conn, call_sid=ctx.call_sid,
                                                    caller=ctx.from_number, now=ctx.now)):
        return HookResult(prompts=[speech.LOOKUP_SPENT], next=Role.MAIN_MENU)
    # The node's next step asks for the last four digits; the number travels in the URL.
    return HookResult(updates={LOOKUP_STATE: number})


def _last_four(phone: str | None) -> str | None:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def case_status_verified(ctx: CallContext, digits: str | None) -> HookResult:
    """The last four digits of the case's contact phone: right → the status; wrong → another
    try (three wrong tries end the look-up, per the node's ``invalid`` rule). Each try is
    charged first, to the call, the case number and the caller (cases.lookup_guard)."""
    entered = (digits or "").strip()
    if entered and set(entered) == {"*"}:
        return HookResult(updates={LOOKUP_STATE: ""})
    number = ctx.state.get(LOOKUP_STATE, "")
    if not looks_like_number(number):
        return HookResult(invalid=True, prompts=[speech.VERIFY_WRONG])
    who = {"call_sid": ctx.call_sid, "caller": ctx.from_number, "number": number}
    charged = _on_counters(lambda conn: lookup_guard.charge(conn, now=ctx.now, **who))
    if charged.case_locked:
        return HookResult(prompts=[speech.CASE_LOCKED], next=Role.MAIN_MENU,
                          updates={LOOKUP_STATE: ""})
    if charged.call_or_caller_spent:
        return HookResult(prompts=[speech.LOOKUP_SPENT], next=Role.MAIN_MENU,
                          updates={LOOKUP_STATE: ""})
    owner = lookup_owner(db.session, number)
    expected = _last_four(owner[0]) if owner is not None else None
    if expected is None or not hmac.compare_digest(entered, expected):
        if charged.case_just_locked:
            _notify_locked(number, ctx)
        return HookResult(invalid=True, prompts=[speech.VERIFY_WRONG])
    _on_counters(lambda conn: lookup_guard.refund(conn, now=ctx.now, **who))
    case = case_by_number(db.session, number)
    if case is None:  # pragma: no cover - deleted between the two statements
        return HookResult(invalid=True, prompts=[speech.VERIFY_WRONG])
    return HookResult(prompts=[_read_case(case, ctx)], updates={LOOKUP_STATE: ""})


def _notify_locked(number: str, ctx: CallContext) -> None:
    """Tell the centre a case number's phone look-up was locked (also for a number that
    does not exist: someone is guessing either way)."""
    case = db.session.scalars(select(Case).where(Case.number == number)).one_or_none()
    caller = ctx.from_number or "隐藏号码"
    notify(db.session, audience=Audience.SUPERVISOR, kind=NotificationKind.LOOKUP_LOCKED,
           case=case, now=ctx.now, title=f"诉求{number}电话查询已锁定",
           body=(f"诉求编号{number}在24小时内电话查询验证连续失败"
                 f"{lookup_guard.MAX_PER_CASE}次（最近一次来电{caller}），"
                 "该编号的电话查询已暂停，仅登记的联系电话可以查询。"
                 + ("" if case is not None else "该编号不存在。")))


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
