"""Follow-up calls (回访) after a case is answered: scheduling, attempts and outcomes.

The life of a follow-up (one per answered round of a case):

1. :func:`followup.listeners.case_answered` (a ``cases.events.CaseAnswered`` listener)
   creates it, ``new``.
2. A worker calls :func:`schedule`: ``scheduled`` at the first calling time — by default the
   next working day 09:30, always inside the calling window (``FOLLOWUP_WINDOWS``, working
   days only) — or straight to an operator when automatic calls are off or there is no phone.
3. At that time a worker calls :func:`begin_attempt` and places the call (``ivr.outbound``).
4. The survey webhooks report :func:`call_answered`, :func:`choose_score`,
   :func:`rate_by_phone` and :func:`comment_recorded`; the status callback
   :func:`call_finished`. A call without a rating (no answer, busy, machine, hung up) is
   retried per :meth:`FollowUpPolicy.retry_at` — 3 attempts over 2 working days by default —
   and then becomes an operator task (:func:`followup.queries.operator_tasks`), whose rating
   an operator enters through ``cases.actions.rating.do_record_rating`` (announced as
   ``RatingRecorded``).

Every attempt is written to the case's audit trail. Functions take ``now`` and plain values
and leave committing to the caller.

Long on purpose: one life cycle (schedule → attempt → outcome → retry or operator task),
each step a short function; its order is the numbered list above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actions.rating import do_record_rating
from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Case
from cases.vocab import AssignmentState, Status
from core.centre import CENTRE_NAME
from followup.models import (
    ATTEMPT_STATUS_LABELS,
    LIVE_ATTEMPT_STATUSES,
    AttemptStatus,
    FollowUp,
    FollowUpAttempt,
    FollowUpStatus,
)
from followup.policy import FollowUpPolicy
from workdays.calendar import WorkCalendar

SURVEY_ACTOR = Actor("system", "自动回访")
SCORE_LABELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意",
                                1: "非常不满意"}
# Twilio's AnsweredBy values that mean nobody is there to take the survey.
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence",
                             "machine_end_other", "fax"})
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# A job that fires a little early (clock skew between hosts) still places its call.
EARLY_TOLERANCE = timedelta(minutes=1)
NO_PHONE = "企业未留联系电话"
AUTO_CALLS_OFF = "未开通自动回访"


# -- small helpers --------------------------------------------------------------------------


def _local_text(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def audit_step(session: Session, case: Case, action: str, now: datetime, note: str,
               **after: Any) -> None:
    record_event(session, case, actor=SURVEY_ACTOR, action=action, now=now, after=after,
                 note=note)


def for_round(session: Session, case_id: int, round_: int) -> FollowUp | None:
    return session.scalars(
        select(FollowUp).where(FollowUp.case_id == case_id, FollowUp.round == round_)
    ).one_or_none()


def locked(session: Session, followup_id: int) -> FollowUp | None:
    """The follow-up, row-locked so that duplicate jobs serialise (PostgreSQL)."""
    return session.scalars(
        select(FollowUp).where(FollowUp.id == followup_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _still_due(followup: FollowUp, case: Case) -> bool:
    """The case still waits for this round's rating."""
    return case.status == Status.ANSWERED and case.rework_count == followup.round


def _attempt_by_sid(session: Session, call_sid: str) -> FollowUpAttempt | None:
    if not call_sid:
        return None
    return session.scalars(
        select(FollowUpAttempt).where(FollowUpAttempt.call_sid == call_sid)
    ).one_or_none()


def _adopt(session: Session, followup_id: int | None, call_sid: str) -> FollowUpAttempt | None:
    """The attempt for ``call_sid``; if Twilio's REST answer was lost, the follow-up's
    attempt still waiting for its sid takes it."""
    attempt = _attempt_by_sid(session, call_sid)
    if attempt is not None or followup_id is None or not call_sid:
        return attempt
    attempt = session.scalars(
        select(FollowUpAttempt).where(FollowUpAttempt.followup_id == followup_id,
                                      FollowUpAttempt.status == AttemptStatus.PLACING,
                                      FollowUpAttempt.call_sid.is_(None))
        .order_by(FollowUpAttempt.number.desc())
    ).first()
    if attempt is not None:
        attempt.call_sid = call_sid[:64]
    return attempt


def _to_operator(session: Session, followup: FollowUp, case: Case, reason: str,
                 now: datetime) -> None:
    followup.status = FollowUpStatus.OPERATOR
    followup.operator_reason = reason[:200]
    followup.operator_since = now
    followup.next_attempt_at = None
    audit_step(session, case, "followup_to_operator", now, f"转人工回访：{reason}",
               followup_id=followup.id)


def schedule(session: Session, followup_id: int, *, now: datetime, policy: FollowUpPolicy,
             calendar: WorkCalendar) -> FollowUp | None:
    """``new`` → ``scheduled`` at the first calling time; idempotent."""
    followup = locked(session, followup_id)
    if followup is None or followup.status != FollowUpStatus.NEW:
        return followup
    case = followup.case
    if not _still_due(followup, case):
        followup.status = FollowUpStatus.CANCELLED
        return followup
    if not followup.phone:
        _to_operator(session, followup, case, NO_PHONE, now)
        return followup
    if not policy.auto_calls:
        _to_operator(session, followup, case, AUTO_CALLS_OFF, now)
        return followup
    at = policy.first_attempt_at(case.answered_at or now, calendar)
    if at < now:  # answered long ago (workers were down): the next calling time from now
        at = policy.hours(calendar).next_opening(now)
    followup.status = FollowUpStatus.SCHEDULED
    followup.next_attempt_at = at
    audit_step(session, case, "followup_scheduled", now,
               f"计划于{_local_text(at, policy.tz)}第1次自动回访", followup_id=followup.id,
               attempt=1, at=at)
    return followup


class PlanAction(StrEnum):
    CALL = "call"  # place the call now
    WAIT = "wait"  # not yet: run again at ``at``
    SKIP = "skip"  # nothing to do (already done, cancelled, or another job has it)


@dataclass(frozen=True)
class CallPlan:
    action: PlanAction
    attempt_id: int | None = None
    number: int = 0
    target: str = ""
    at: datetime | None = None
    reason: str = ""


def begin_attempt(session: Session, followup_id: int, *, now: datetime, policy: FollowUpPolicy,
                  calendar: WorkCalendar, dial: Callable[[str], str]) -> CallPlan:
    """Decide whether to call now; if so, number the attempt (the caller commits first)."""
    followup = locked(session, followup_id)
    if followup is None:
        return CallPlan(PlanAction.SKIP, reason="no such follow-up")
    case = followup.case
    hours = policy.hours(calendar)
    if followup.status == FollowUpStatus.CALLING:
        # A REST retry continues the attempt it began; anything else is a duplicate job.
        current = followup.attempts[-1] if followup.attempts else None
        if current is None or current.status != AttemptStatus.PLACING or current.call_sid:
            return CallPlan(PlanAction.SKIP, reason="attempt already in progress")
        if not hours.is_open(now):
            _finish_attempt(session, current, AttemptStatus.ERROR, now, policy, calendar,
                            detail="重试时已超出呼叫时段")
            return CallPlan(PlanAction.SKIP, reason="window closed during REST retries")
        return CallPlan(PlanAction.CALL, current.id, current.number, current.target)
    if followup.status != FollowUpStatus.SCHEDULED:
        return CallPlan(PlanAction.SKIP, reason=f"follow-up is {followup.status}")
    if not _still_due(followup, case):
        followup.status = FollowUpStatus.CANCELLED
        followup.next_attempt_at = None
        return CallPlan(PlanAction.SKIP, reason="case no longer waits for a rating")
    if followup.next_attempt_at is not None and followup.next_attempt_at > now + EARLY_TOLERANCE:
        return CallPlan(PlanAction.WAIT, at=followup.next_attempt_at, reason="not due yet")
    if not hours.is_open(now):
        # Never at night or on a holiday, however late the job runs.
        followup.next_attempt_at = hours.next_opening(now)
        return CallPlan(PlanAction.WAIT, at=followup.next_attempt_at,
                        reason="outside the calling window")
    # An operator may have corrected the contact number since the answer.
    followup.phone = case.contact_phone or followup.phone
    if not followup.phone:
        _to_operator(session, followup, case, NO_PHONE, now)
        return CallPlan(PlanAction.SKIP, reason="no phone number")
    number = followup.attempt_count + 1
    attempt = FollowUpAttempt(followup=followup, number=number, status=AttemptStatus.PLACING,
                              target=dial(followup.phone or "")[:200], started_at=now)
    session.add(attempt)
    followup.attempt_count = number
    followup.status = FollowUpStatus.CALLING
    followup.first_attempt_at = followup.first_attempt_at or now
    followup.next_attempt_at = None
    session.flush()
    return CallPlan(PlanAction.CALL, attempt.id, number, attempt.target)


def attempt_placed(session: Session, attempt_id: int, *, call_sid: str, call_id: int | None,
                   now: datetime) -> FollowUpAttempt | None:
    """Twilio accepted the call."""
    attempt = session.get(FollowUpAttempt, attempt_id)
    if attempt is None:
        return None
    attempt.call_sid = attempt.call_sid or call_sid[:64]
    attempt.call_id = attempt.call_id or call_id
    if attempt.status == AttemptStatus.PLACING:
        attempt.status = AttemptStatus.RINGING
    audit_step(session, attempt.followup.case, "followup_call", now,
               f"第{attempt.number}次自动回访：已呼叫", followup_id=attempt.followup_id,
               attempt=attempt.number, target=attempt.target, call_sid=attempt.call_sid)
    return attempt


def note_rest_error(session: Session, attempt_id: int, error: str) -> int:
    """Count a failed REST request of an attempt; returns the count so far."""
    attempt = session.get(FollowUpAttempt, attempt_id)
    if attempt is None:
        return 0
    attempt.rest_errors += 1
    attempt.error = error[:2000]
    return attempt.rest_errors


def attempt_failed(session: Session, attempt_id: int, *, status: AttemptStatus, now: datetime,
                   policy: FollowUpPolicy, calendar: WorkCalendar, detail: str | None = None,
                   give_up: bool = False) -> FollowUp | None:
    """The call could not be placed (REST error for good); ``give_up``: no retry."""
    attempt = session.get(FollowUpAttempt, attempt_id)
    if attempt is None or attempt.ended_at is not None:
        return None
    _finish_attempt(session, attempt, status, now, policy, calendar, detail=detail,
                    give_up=give_up)
    return attempt.followup


def _finish_attempt(session: Session, attempt: FollowUpAttempt, status: AttemptStatus,
                    now: datetime, policy: FollowUpPolicy, calendar: WorkCalendar, *,
                    detail: str | None = None, give_up: bool = False) -> None:
    """Close an attempt that produced no rating; retry later or hand over to an operator."""
    attempt.status = status
    attempt.ended_at = now
    if detail:
        attempt.error = detail[:2000]
    followup = attempt.followup
    case = followup.case
    label = ATTEMPT_STATUS_LABELS[status]
    audit_step(session, case, "followup_failed", now, f"第{attempt.number}次自动回访：{label}",
               followup_id=followup.id, attempt=attempt.number, outcome=status)
    if followup.status != FollowUpStatus.CALLING:
        return  # rated by an operator meanwhile, or cancelled
    if not _still_due(followup, case):
        followup.status = FollowUpStatus.CANCELLED
        return
    at = None if give_up else policy.retry_at(
        followup.first_attempt_at or attempt.started_at, now, followup.attempt_count, calendar)
    if at is None:
        _to_operator(session, followup, case,
                     f"自动回访{followup.attempt_count}次未成功（最后一次：{label}）", now)
        return
    followup.status = FollowUpStatus.SCHEDULED
    followup.next_attempt_at = at
    audit_step(session, case, "followup_scheduled", now,
               f"计划于{_local_text(at, policy.tz)}第{attempt.number + 1}次自动回访",
               followup_id=followup.id, attempt=attempt.number + 1, at=at)


# -- the survey call ----------------------------------------------------------------------------


def is_machine(answered_by: str | None) -> bool:
    return (answered_by or "") in MACHINE_ANSWERS


def call_answered(session: Session, followup_id: int | None, *, call_sid: str,
                  call_id: int | None, answered_by: str | None, now: datetime
                  ) -> FollowUpAttempt | None:
    """The callee picked up (Twilio fetched the survey); None if the call is not ours."""
    attempt = _adopt(session, followup_id, call_sid)
    if attempt is None or (followup_id is not None and attempt.followup_id != followup_id):
        return None
    attempt.call_id = attempt.call_id or call_id
    attempt.answered_by = (answered_by or "")[:32] or attempt.answered_by
    if attempt.ended_at is None:
        if is_machine(answered_by):
            attempt.status = AttemptStatus.MACHINE
        elif attempt.status in (AttemptStatus.PLACING, AttemptStatus.RINGING):
            attempt.status = AttemptStatus.IN_PROGRESS
    return attempt


@dataclass
class SurveyCase:
    """What the survey says about the case it calls about."""

    attempt: FollowUpAttempt
    case: Case
    due: bool


def survey_case(session: Session, call_sid: str) -> SurveyCase | None:
    attempt = _attempt_by_sid(session, call_sid)
    if attempt is None:
        return None
    followup = attempt.followup
    return SurveyCase(attempt, followup.case, _still_due(followup, followup.case))


def answered_by_names(case: Case) -> str:
    """Who answered this round: the departments that replied, or the centre (即时办)."""
    names = [a.department.name for a in case.assignments
             if a.round == case.rework_count and a.state == AssignmentState.REPLIED]
    return "、".join(dict.fromkeys(names)) or CENTRE_NAME


def choose_score(session: Session, call_sid: str, score: int) -> FollowUpAttempt | None:
    """A key pressed in the rating menu; kept until the callee confirms it."""
    attempt = _attempt_by_sid(session, call_sid)
    if attempt is None or score not in SCORE_LABELS:
        return None
    attempt.pending_score = score
    return attempt


class RateResult(StrEnum):
    RATED = "rated"
    NO_CHOICE = "no_choice"  # nothing chosen yet (the confirm step came without a choice)
    NOT_DUE = "not_due"  # rated meanwhile (e.g. by an operator) or the case moved on
    UNKNOWN = "unknown"  # not one of our calls


def rate_by_phone(session: Session, call_sid: str, *, call_id: int | None, now: datetime,
                  calendar: WorkCalendar | None = None, tz: ZoneInfo | None = None
                  ) -> RateResult:
    """The callee confirmed the rating: record it on the case (idempotent per call)."""
    attempt = _attempt_by_sid(session, call_sid)
    if attempt is None:
        return RateResult.UNKNOWN
    if attempt.status == AttemptStatus.RATED:
        return RateResult.RATED  # Twilio repeated the request
    if attempt.pending_score is None:
        return RateResult.NO_CHOICE
    followup = attempt.followup
    if not _still_due(followup, followup.case):
        return RateResult.NOT_DUE
    do_record_rating(session, followup.case_id, score=attempt.pending_score,
                     via="callback", call_id=call_id or attempt.call_id,
                     actor=SURVEY_ACTOR, now=now, calendar=calendar, tz=tz)
    attempt.status = AttemptStatus.RATED
    attempt.score = attempt.pending_score
    return RateResult.RATED


def comment_recorded(session: Session, call_sid: str, recording_id: int) -> bool:
    """The spoken comment's recording belongs to this attempt (its transcript comes later)."""
    attempt = _attempt_by_sid(session, call_sid)
    if attempt is None:
        return False
    attempt.comment_recording_id = attempt.comment_recording_id or recording_id
    return True


def call_finished(session: Session, followup_id: int | None, *, call_sid: str, call_status: str,
                  answered_by: str | None, now: datetime, policy: FollowUpPolicy,
                  calendar: WorkCalendar) -> FollowUpAttempt | None:
    """Twilio's status callback: a final status closes the attempt (idempotent)."""
    attempt = _adopt(session, followup_id, call_sid)
    if attempt is None or (followup_id is not None and attempt.followup_id != followup_id):
        return None
    if answered_by:
        attempt.answered_by = answered_by[:32]
    if attempt.ended_at is not None or call_status not in FINAL_CALL_STATUSES:
        return attempt
    if attempt.status == AttemptStatus.RATED:
        attempt.ended_at = now
        return attempt
    if attempt.status == AttemptStatus.MACHINE or is_machine(answered_by):
        outcome = AttemptStatus.MACHINE
    else:
        outcome = {
            "busy": AttemptStatus.BUSY,
            "no-answer": AttemptStatus.NO_ANSWER,
            "failed": AttemptStatus.FAILED,
            "canceled": AttemptStatus.FAILED,
        }.get(call_status, AttemptStatus.NO_RATING)
    _finish_attempt(session, attempt, outcome, now, policy, calendar)
    return attempt



def write_off_lost(session: Session, *, now: datetime, policy: FollowUpPolicy,
                   calendar: WorkCalendar) -> list[FollowUpAttempt]:
    """Attempts still in flight long after they began (a callback never came) count as
    failed; returns them (their follow-ups may be due again later)."""
    stale = list(session.scalars(
        select(FollowUpAttempt).where(FollowUpAttempt.status.in_(LIVE_ATTEMPT_STATUSES),
                                      FollowUpAttempt.ended_at.is_(None),
                                      FollowUpAttempt.started_at < now - policy.lost_after)))
    for attempt in stale:
        status = AttemptStatus.ERROR if attempt.call_sid is None else AttemptStatus.LOST
        _finish_attempt(session, attempt, status, now, policy, calendar,
                        detail="超时未收到呼叫结果")
    return stale
