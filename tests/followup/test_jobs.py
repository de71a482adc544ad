"""The call jobs: exact REST request, back-off on errors, idempotence, window, rate limit,
hand-off after commit and the periodic catch-up (real Redis where the code uses it)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from core.db import db
from core.queues import CALLS, DEFAULT
from core.rate_limit import RateLimiter
from followup import jobs as followup_jobs
from ivr.models import Call
from messaging import jobs as sms_jobs
from messaging.models import SmsMessage
from tests.cases.factories import actions, local
from tests.followup.support import (
    ACCOUNT_SID,
    API,
    answered_case,
    attempts,
    case,
    followup_of,
    place,
    scheduled,
)

TOO_MANY = (429, {"code": 20429, "message": "Too Many Requests", "status": 429})
BAD_NUMBER = (400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})


@pytest.fixture
def with_redis(jobs: Any, redis_conn: Any, redis_url: str) -> Any:
    jobs.config["REDIS_URL"] = redis_url
    jobs.config["FOLLOWUP_CALLS_PER_SECOND"] = 50  # the limiter is tested on its own below
    return redis_conn


def test_call_job_sends_the_exact_request_and_logs_the_attempt(
        jobs: Any, clock: Any, twilio_http: Any) -> None:
    jobs.config["FOLLOWUP_DIAL_TEMPLATE"] = "sip:{number}@trunk.example.cn"
    case_id = answered_case(local("2026-11-24 10:00"))
    followup = scheduled(case_id, clock)
    sid, data = place(followup.id, twilio_http)
    sent = twilio_http.calls()[0]
    assert (sent.method, sent.url, sent.auth[0]) == ("POST", f"{API}/Calls.json", ACCOUNT_SID)
    base = "https://hotline.example.test/ivr/survey"
    assert {k: data[k] for k in ("To", "From", "Url", "StatusCallback", "MachineDetection")} == {
        "To": "sip:13800138000@trunk.example.cn",
        "From": "+8657488888718",
        "Url": f"{base}/start?followup={followup.id}",
        "StatusCallback": f"{base}/status?followup={followup.id}",
        "MachineDetection": "Enable",
    }
    (attempt,) = attempts(followup.id)
    assert (attempt.number, attempt.status, attempt.call_sid, attempt.target) == (
        1, "ringing", sid, "sip:13800138000@trunk.example.cn")
    call = db.session.scalars(select(Call).where(Call.call_sid == sid)).one()
    assert (call.flow, call.direction, call.id) == ("survey", "outbound-api", attempt.call_id)
    event = next(e for e in case(case_id).events if e.action == "followup_call")
    assert event.note == "第1次自动回访：已呼叫" and event.after["call_sid"] == sid


def test_a_duplicate_job_places_no_second_call(jobs: Any, clock: Any, twilio_http: Any) -> None:
    followup = scheduled(answered_case(local("2026-11-24 10:00")), clock)
    place(followup.id, twilio_http)
    assert followup_jobs.place_followup_call(followup.id).startswith("skip")
    assert len(twilio_http.calls()) == 1 and len(attempts(followup.id)) == 1


def test_never_at_night_the_job_waits_for_the_window(jobs: Any, clock: Any,
                                                     twilio_http: Any) -> None:
    followup = scheduled(answered_case(local("2026-11-24 10:00")), clock)
    clock.set_local("2026-11-25 21:30")  # the job ran late
    assert followup_jobs.place_followup_call(followup.id).startswith("wait")
    assert twilio_http.calls() == []
    assert followup_of(followup.case_id).next_attempt_at == local("2026-11-26 09:00")


def test_rate_limited_request_is_retried_with_back_off(
        with_redis: Any, clock: Any, twilio_http: Any) -> None:
    followup = scheduled(answered_case(local("2026-11-24 10:00")), clock)
    twilio_http.failures.append(TOO_MANY)
    before = datetime.now(UTC)
    assert followup_jobs.place_followup_call(followup.id) == "retry 1 in 15 s"
    registry = ScheduledJobRegistry(queue=Queue(CALLS, connection=with_redis))
    jid = f"followup-{followup.id}-a1-r1"
    assert jid in registry.get_job_ids()
    assert registry.get_scheduled_time(jid) - before >= timedelta(seconds=14)
    (attempt,) = attempts(followup.id)
    assert (attempt.status, attempt.rest_errors, attempt.call_sid) == ("placing", 1, None)
    # The retry places the same attempt: one attempt, one call.
    sid = followup_jobs.place_followup_call(followup.id)
    (attempt,) = attempts(followup.id)
    assert (attempt.number, attempt.call_sid) == (1, sid)


def test_when_rest_retries_run_out_the_attempt_failed(
        with_redis: Any, clock: Any, twilio_http: Any) -> None:
    with_redis_config = followup_jobs.get_app().config
    with_redis_config["FOLLOWUP_REST_RETRY_DELAYS"] = [1]
    followup = scheduled(answered_case(local("2026-11-24 10:00")), clock)
    twilio_http.failures.extend([TOO_MANY, TOO_MANY])
    assert followup_jobs.place_followup_call(followup.id).startswith("retry")
    assert followup_jobs.place_followup_call(followup.id) == "failed"
    (attempt,) = attempts(followup.id)
    assert (attempt.status, attempt.rest_errors) == ("error", 2)
    assert followup_of(followup.case_id).status == "scheduled"  # the next attempt, later


def test_an_invalid_number_goes_straight_to_an_operator(jobs: Any, clock: Any,
                                                        twilio_http: Any) -> None:
    followup = scheduled(answered_case(local("2026-11-24 10:00")), clock)
    twilio_http.failures.append(BAD_NUMBER)
    assert followup_jobs.place_followup_call(followup.id) == "failed"
    followup = followup_of(followup.case_id)
    assert (followup.status, followup.operator_reason) == (
        "operator", "自动回访1次未成功（最后一次：呼叫请求失败）")


def test_calls_are_spaced_by_the_shared_rate_limit(redis_conn: Any) -> None:
    # A long interval and no real sleeping: the three reservations certainly fall within
    # one interval of each other, so the bounds below follow from the rule alone (slot k
    # starts (k-1) intervals after the first; Redis's clock only moves forward).
    interval = 60.0
    limiters = [RateLimiter(redis_conn, "test:slot", interval, sleep=lambda _s: None)
                for _ in range(3)]
    waits: list[float] = []
    barrier = threading.Barrier(3)

    def take(limiter: RateLimiter) -> None:
        barrier.wait()
        waits.append(limiter.acquire(max_wait=10 * interval))

    threads = [threading.Thread(target=take, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second, third = sorted(waits)
    assert first == 0  # the first caller's slot is now
    assert 0 < second <= interval < third <= 2 * interval


def test_hand_offs_are_enqueued_after_commit(with_redis: Any, clock: Any) -> None:
    # RQ schedules on the real clock: answer a week from now so the call is in its future.
    clock.now = datetime.now(UTC) + timedelta(days=7)
    case_id = answered_case(clock.now)
    followup = followup_of(case_id)
    default = Queue(DEFAULT, connection=with_redis)
    assert f"followup-{followup.id}-new" in default.get_job_ids()
    (message,) = db.session.scalars(select(SmsMessage)).all()
    assert f"sms-{message.id}" in default.get_job_ids()
    followup_jobs.schedule_followup(followup.id)
    at = followup_of(case_id).next_attempt_at
    registry = ScheduledJobRegistry(queue=Queue(CALLS, connection=with_redis))
    jid = f"followup-{followup.id}-a1-{int(at.timestamp())}"
    assert registry.get_scheduled_time(jid) == at  # RQ enqueue_at, the first calling time


def test_periodic_tick_catches_up(with_redis: Any, clock: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    with_redis.flushdb()  # as if Redis had lost the hand-offs
    clock.set_local("2026-11-24 10:05")
    assert followup_jobs.followups_tick()["scheduled"] == 1
    assert sms_jobs.send_due_texts() == 1  # the "answered" text went out
    assert len(twilio_http.messages()) == 1
    clock.now = followup_of(case_id).next_attempt_at
    with_redis.flushdb()
    assert followup_jobs.followups_tick()["calls"] == 1
    assert len(Queue(CALLS, connection=with_redis).get_job_ids()) == 1


def test_a_call_whose_result_never_came_is_written_off(jobs: Any, clock: Any,
                                                       twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    followup = scheduled(case_id, clock)
    place(followup.id, twilio_http)
    clock.now += timedelta(hours=3)
    assert followup_jobs.followups_tick()["lost"] == 1
    assert attempts(followup.id)[0].status == "lost"
    assert followup_of(case_id).status == "scheduled"
    assert "followup_failed" in actions(db.session(), case(case_id))
