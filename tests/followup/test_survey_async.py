"""The survey with Redis configured: menu steps then take the asynchronous call-log path
(``ivr.eventlog``), and the rating written by the survey hooks must still be committed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.factories import local
from tests.followup.support import (
    answer,
    answered_case,
    attempts,
    case,
    followup_of,
    place,
    scheduled,
)


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str, redis_conn: Any) -> dict[str, Any]:
    app_config.update({"REDIS_URL": redis_url, "FOLLOWUP_CALLS_PER_SECOND": 50})
    return app_config


def test_rating_lands_when_menu_steps_are_logged_through_redis(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    assert jobs.extensions["ivr_runtime"].call_log is not None
    case_id = answered_case(local("2026-11-24 10:00"))
    followup = scheduled(case_id, clock)
    sid, data = place(followup.id, twilio_http)
    outcome = answer(phone, sid, data, keys=["2", "1", "2"])
    assert "您的评价是：不满意。" in outcome.heard
    assert (case(case_id).status, case(case_id).rework_count) == ("handling", 1)
    assert attempts(followup.id)[0].status == "rated"
    assert followup_of(case_id).status == "rated"
