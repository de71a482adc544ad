"""Follow-through jobs: schedule and place survey calls, send deadline reminders.

Jobs take ids, reload rows and are idempotent: the database decides what happens (a numbered
attempt, a once-only reminder row); RQ job ids only keep obvious duplicates
out of the queues.

Hand-off after commit: code that creates or reschedules a follow-up calls :func:`hand_off`,
and the job its state asks for is enqueued once the transaction commits (``enqueue_at`` for
calls at their time). If Redis is down at that moment, :func:`followups_tick` (periodic)
catches up.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import LockError, RedisError
from sqlalchemy.orm import Session

from call_flows.roles import SURVEY_FLOW
from cases import decision_reminders, reminders
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db, retry_when_locked, run_retrying
from core.jobs import after_commit, get_app
from core.queues import (
    CALLS,
    DEFAULT,
    enqueue_once,
    job_id,
    job_is_live,
    queue,
    quick_redis_for,
    redis_for,
)
from core.rate_limit import RateLimiter
from core.settings import setting
from core.twilio_rest import is_permanent, is_retryable, make_twilio_client
from followup import calls, queries
from followup.calls import PlanAction
from followup.models import AttemptStatus, FollowUp, FollowUpStatus
from followup.policy import FollowUpPolicy
from ivr import calllog, outbound
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)

CALL_SLOT_KEY = "hotline:followup:call-slot"
REMINDER_LOCK_KEY = "hotline:followup:reminders"


# -- plumbing ---------------------------------------------------------------------------------


def _now(app: Flask) -> datetime:
    return clock_of(app.config)()


def _calendar(app: Flask) -> WorkCalendar:
    return app.extensions["calendars"].get()


def _policy(app: Flask) -> FollowUpPolicy:
    return FollowUpPolicy.from_config(app.config)


def place_job_id(followup_id: int, attempt: int, at: datetime) -> str:
    """One id per attempt and time, so a rescheduled call is a new job."""
    return job_id("followup", followup_id, f"a{attempt}", int(at.timestamp()))


def enqueue_call(connection: Redis, followup_id: int, attempt: int, at: datetime) -> bool:
    """Enqueue the call job for ``at`` (RQ ``enqueue_at``) unless it is already waiting."""
    jid = place_job_id(followup_id, attempt, at)
    if job_is_live(connection, jid):
        return False
    call_queue = queue(CALLS, connection)
    options: dict[str, Any] = {"job_id": jid, "description": f"follow-up call {followup_id}",
                               "job_timeout": 180, "result_ttl": 86400, "failure_ttl": 30 * 86400}
    # RQ's scheduler runs on the real clock: a time already past there is enqueued now.
    if at <= datetime.now(UTC):
        call_queue.enqueue(place_followup_call, followup_id, **options)
    else:
        call_queue.enqueue_at(at, place_followup_call, followup_id, **options)
    return True


def hand_off(session: Session, followup: FollowUp | None) -> None:
    """Once this transaction commits, give ``followup`` to the job its state asks for.

    A new follow-up is scheduled; a scheduled one is called at its time. Nothing is enqueued
    outside a request or job of an app, nor without Redis: :func:`followups_tick` catches up.
    """
    if followup is None or followup.id is None:
        return
    followup_id = followup.id
    if followup.status == FollowUpStatus.NEW:
        jid = job_id("followup", followup_id, "new")
        after_commit(session, ("followup", followup_id), lambda: _enqueue(
            lambda connection: enqueue_once(connection, DEFAULT, schedule_followup, followup_id,
                                            jid=jid, result_ttl=86400,
                                            failure_ttl=30 * 86400)))
    elif followup.status == FollowUpStatus.SCHEDULED and followup.next_attempt_at is not None:
        attempt, at = followup.attempt_count + 1, followup.next_attempt_at
        after_commit(session, ("followup", followup_id), lambda: _enqueue(
            lambda connection: enqueue_call(connection, followup_id, attempt, at)))


def _enqueue(work: Callable[[Redis], object]) -> None:
    if not has_app_context():
        return
    connection = quick_redis_for(current_app.config)
    if connection is None:
        return
    try:
        work(connection)
    except RedisError as exc:
        # The rows are committed; followups_tick enqueues them later.
        log.warning("follow-through jobs not enqueued (periodic catch-up will): %s", exc)


def init_app(app: Flask) -> None:
    """``APP_HOOKS``: check the follow-up settings (a bad FOLLOWUP_* setting stops start-up)."""
    FollowUpPolicy.from_config(app.config)
    if setting(app.config, "FOLLOWUP_RATING_ORDER") not in ("ascending", "descending"):
        raise ValueError("FOLLOWUP_RATING_ORDER 应为 ascending 或 descending")


# -- jobs -------------------------------------------------------------------------------------


@retry_when_locked
def schedule_followup(followup_id: int) -> str:
    """A new follow-up gets its first calling time (or goes to an operator)."""
    app = get_app()
    with app.app_context(), db.transaction() as session:
        followup = calls.schedule(session, followup_id, now=_now(app), policy=_policy(app),
                                  calendar=_calendar(app))
        hand_off(session, followup)
        return followup.status if followup is not None else "missing"


def place_followup_call(followup_id: int) -> str:
    """Place the follow-up's next survey call if it is due and inside the calling window.

    Not idempotent as a whole (it places a call): a lock conflict runs its database steps
    again one by one (the numbered attempt before the call, its result after), never the
    call."""
    app = get_app()
    config = app.config
    with app.app_context():
        now, policy, calendar = _now(app), _policy(app), _calendar(app)
        template = config.get("FOLLOWUP_DIAL_TEMPLATE") or ""

        def begin() -> calls.CallPlan:
            with db.write_transaction() as session:
                plan = calls.begin_attempt(
                    session, followup_id, now=now, policy=policy, calendar=calendar,
                    dial=lambda phone: outbound.dial_target(phone, template))
                hand_off(session, session.get(FollowUp, followup_id))
                return plan

        plan = run_retrying(begin, what=f"follow-up {followup_id}: attempt")
        if plan.action != PlanAction.CALL:
            return f"{plan.action}: {plan.reason}"
        assert plan.attempt_id is not None
        connection = redis_for(config)
        if connection is not None:
            RateLimiter.per_second(connection, CALL_SLOT_KEY,
                                   float(setting(config, "FOLLOWUP_CALLS_PER_SECOND"))).acquire()
        try:
            sid = outbound.place_survey_call(make_twilio_client(config), config,
                                             followup_id=followup_id, to=plan.target)
        except Exception as exc:
            return _rest_failed(app, followup_id, plan.attempt_id, plan.number, exc)
        attempt_id = plan.attempt_id

        def placed() -> None:
            with db.write_transaction() as session:
                call = calllog.get_or_create_call(
                    session, sid, now=now, to_number=plan.target, direction="outbound-api",
                    from_number=config.get("FOLLOWUP_CALLER_ID") or config["TWILIO_CALLER_ID"],
                    flow=SURVEY_FLOW)
                session.flush()
                calls.attempt_placed(session, attempt_id, call_sid=sid, call_id=call.id,
                                     now=now)

        run_retrying(placed, what=f"follow-up {followup_id}: call {sid} placed")
        return sid


def _rest_failed(app: Flask, followup_id: int, attempt_id: int, number: int,
                 exc: Exception) -> str:
    """Retry the same request with back-off, or count the attempt as failed."""
    config = app.config
    log.warning("follow-up %s: call request failed: %s", followup_id, exc)

    def note() -> int:
        with db.write_transaction() as session:
            return calls.note_rest_error(session, attempt_id, str(exc))

    errors = run_retrying(note, what=f"follow-up {followup_id}: request error")
    delays: Sequence[int] = setting(config, "FOLLOWUP_REST_RETRY_DELAYS")
    connection = redis_for(config)
    if is_retryable(exc) and errors <= len(delays) and connection is not None:
        queue(CALLS, connection).enqueue_in(
            timedelta(seconds=delays[errors - 1]), place_followup_call, followup_id,
            job_id=job_id("followup", followup_id, f"a{number}", f"r{errors}"),
            job_timeout=180, failure_ttl=30 * 86400)
        return f"retry {errors} in {delays[errors - 1]} s"

    def failed() -> None:
        with db.write_transaction() as session:
            hand_off(session, calls.attempt_failed(
                session, attempt_id, status=AttemptStatus.ERROR, now=_now(app),
                policy=_policy(app), calendar=_calendar(app), detail=str(exc),
                give_up=is_permanent(exc)))

    run_retrying(failed, what=f"follow-up {followup_id}: attempt failed")
    return "failed"


@retry_when_locked
def followups_tick() -> dict[str, int]:
    """Periodic catch-up: schedule new follow-ups, enqueue due calls, write off lost calls.
    Idempotent, so overlapping runs are harmless."""
    app = get_app()
    counts = {"scheduled": 0, "calls": 0, "lost": 0}
    with app.app_context():
        now, policy, calendar = _now(app), _policy(app), _calendar(app)
        with db.transaction() as session:
            new = queries.new_followups(session, created_before=now - timedelta(minutes=1))
        for followup_id in new:
            schedule_followup(followup_id)
            counts["scheduled"] += 1
        with db.transaction() as session:
            lost = calls.write_off_lost(session, now=now, policy=policy, calendar=calendar)
            for attempt in lost:
                hand_off(session, attempt.followup)
            counts["lost"] = len(lost)
        with db.transaction() as session:
            due = queries.due_followups(session, now=now)
        connection = redis_for(app.config)
        if connection is not None:
            for followup_id, made, at in due:
                counts["calls"] += enqueue_call(connection, followup_id, made + 1, at)
    return counts


@retry_when_locked
def send_reminders_job() -> int:
    """Periodic: deadline reminders. A Redis lock keeps concurrent schedulers from doing the
    work twice; the unique ``reminders`` rows make each notice once-only regardless."""
    app = get_app()
    connection = redis_for(app.config)
    lock = connection.lock(REMINDER_LOCK_KEY, timeout=600) if connection is not None else None
    try:
        if lock is not None and not lock.acquire(blocking=False):
            return 0
    except RedisError as exc:  # the database constraint alone is still correct
        log.warning("reminder lock unavailable: %s", exc)
        lock = None
    try:
        tz = hotline_zone(app.config)
        escalate_after = int(setting(app.config, "REMINDER_ESCALATE_AFTER_DAYS"))
        with app.app_context(), db.transaction() as session:
            run = reminders.send_reminders(
                session, _now(app), calendar=_calendar(app), tz=tz,
                escalate_after=escalate_after)
            run.sent.extend(decision_reminders.send_decision_reminders(
                session, _now(app), calendar=_calendar(app), tz=tz,
                escalate_after=escalate_after))
    finally:
        if lock is not None:
            with contextlib.suppress(LockError, RedisError):
                lock.release()
    if run.sent:
        log.info("reminders: %d notice(s) sent", len(run.sent))
    return len(run.sent)
