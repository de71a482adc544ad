"""IVR hooks of the satisfaction survey (``call_flows/flows/survey.yaml``).

The survey call is placed by a worker (``followup.jobs``); its start webhook links the
call to the follow-up attempt, so every hook finds the case by the call's CallSid. Hooks run
inside the webhook request and use its session; the route commits.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from call_flows.hooks import CallContext, HookRegistry, HookResult, zone_of
from call_flows.roles import Role
from core import twilio_fields
from core.db import db
from followup import calls
from followup.calls import SCORE_LABELS, RateResult
from ivr.models import Recording
from ivr.speech import spoken_case_number
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)

HOOK_NAMES = ("survey_identify", "survey_rating_chosen", "survey_rating_confirmed",
              "survey_comment_saved")
NOTHING_TO_RATE = "抱歉，打扰您了。本次回访的诉求已完成评价。"
NOT_RECORDED = "抱歉，评价暂时无法记录，我们稍后会再与您联系。"


def rating_options(order: str = "ascending") -> str:
    """The keypad choices as spoken in the rating menu (``{rating_options}`` in the flow).

    Keys always equal scores (5 非常满意 … 1 非常不满意); ``FOLLOWUP_RATING_ORDER`` only
    chooses which end is read first.
    """
    scores = [5, 4, 3, 2, 1] if order == "descending" else [1, 2, 3, 4, 5]
    return "，".join(f"{SCORE_LABELS[s]}请按{s}" for s in scores) + "。"


def _calendar(ctx: CallContext) -> WorkCalendar | None:
    provider: Any = ctx.services.get("calendars")
    return provider.get() if provider is not None else None


def _tz(ctx: CallContext) -> ZoneInfo:
    return zone_of(ctx.services)


def survey_identify(ctx: CallContext, _digits: str | None) -> HookResult:
    """Name the case (number digit by digit) and who answered it."""
    found = calls.survey_case(db.session, ctx.call_sid)
    if found is None or not found.due:
        return HookResult(prompts=[NOTHING_TO_RATE], next=Role.SURVEY_END)
    case = found.case
    received = case.received_at.astimezone(_tz(ctx))
    return HookResult(prompts=[
        f"您于{received.month}月{received.day}日反映的诉求，编号{spoken_case_number(case.number)}，"
        f"已由{calls.answered_by_names(case)}答复。现对办理结果进行回访，耽误您一点时间。"
    ])


def survey_rating_chosen(ctx: CallContext, _digits: str | None) -> HookResult:
    """A rating key: keep it and read it back before the confirmation menu."""
    raw = ctx.state.get("rating", "")
    score = twilio_fields.ascii_int(raw, limit=9) or 0
    if score not in SCORE_LABELS or calls.choose_score(db.session, ctx.call_sid,
                                                           score) is None:
        return HookResult(next=Role.RATING_MENU)
    return HookResult(prompts=[f"您的评价是：{SCORE_LABELS[score]}。"])


def survey_rating_confirmed(ctx: CallContext, _digits: str | None) -> HookResult:
    """Confirmed: the rating goes on the case (3–5 settles, 1–2 reopens it)."""
    session = db.session
    try:
        # A failure must not cost the call log: the call ends without a rating and is retried.
        with session.begin_nested():
            result = calls.rate_by_phone(
                session, ctx.call_sid, call_id=ctx.services.get("call_id"), now=ctx.now,
                calendar=_calendar(ctx), tz=_tz(ctx))
    except Exception:
        log.exception("survey: could not record the rating of call %s", ctx.call_sid)
        return HookResult(prompts=[NOT_RECORDED], next=Role.SURVEY_END)
    if result == RateResult.RATED:
        return HookResult(prompts=["您的评价已记录。"])
    if result == RateResult.NO_CHOICE:
        return HookResult(next=Role.RATING_MENU)
    return HookResult(prompts=[NOTHING_TO_RATE], next=Role.SURVEY_END)


def survey_comment_saved(ctx: CallContext, _digits: str | None) -> HookResult:
    """The spoken comment: link the recording to the attempt; it is transcribed later."""
    session = db.session
    sid = ctx.params.get("RecordingSid", "")
    recording_id = session.scalar(select(Recording.id).where(Recording.recording_sid == sid))
    if recording_id is None or not calls.comment_recorded(session, ctx.call_sid,
                                                              recording_id):
        log.warning("survey: comment %r of call %s not linked", sid, ctx.call_sid)
    return HookResult(prompts=["您的意见已记录。"])


def register(registry: HookRegistry) -> None:
    """Called by the app factory (``HOOK_PROVIDERS``)."""
    registry.hook("survey_identify")(survey_identify)
    registry.hook("survey_rating_chosen")(survey_rating_chosen)
    registry.hook("survey_rating_confirmed")(survey_rating_confirmed)
    registry.hook("survey_comment_saved")(survey_comment_saved)
