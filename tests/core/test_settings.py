"""Settings are parsed once (core/config.py) and the time zone reaches the domain from there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from api.tokens import create_token
from cases.case_models import Case
from core.config import DEFAULT_TZ, from_env, parse_bool
from core.db import db
from tests.cases.factories import lead, routed_case

ZONE = "Pacific/Auckland"  # UTC+13 in November: its date runs ahead of Shanghai's


@pytest.mark.parametrize(("raw", "default", "expected"), [
    ("1", False, True), ("TRUE", False, True), (" yes ", False, True), ("on", False, True),
    ("0", True, False), ("off", True, False), ("no", True, False),
    (None, True, True), ("", True, True), (None, False, False), (True, False, True),
])
def test_yes_no_settings(raw: object, default: bool, expected: bool) -> None:
    assert parse_bool(raw, default) is expected


def test_time_zone_defaults_when_unset_or_blank(tmp_path: Any) -> None:
    assert from_env({}, tmp_path)["HOTLINE_TZ"] == DEFAULT_TZ == "Asia/Shanghai"
    assert from_env({"HOTLINE_TZ": ""}, tmp_path)["HOTLINE_TZ"] == DEFAULT_TZ
    assert from_env({"HOTLINE_TZ": ZONE}, tmp_path)["HOTLINE_TZ"] == ZONE


def test_blank_retry_intervals_turn_queue_retries_off(tmp_path: Any) -> None:
    # A node started with TRANSCRIPTION_RETRY_INTERVALS= must not retry on the queue (the
    # reconciliation hands a dead node's recording on); unset keeps the default back-off.
    assert from_env({}, tmp_path)["TRANSCRIPTION_RETRY_INTERVALS"] == [30, 120, 600]
    assert from_env({"TRANSCRIPTION_RETRY_INTERVALS": ""}, tmp_path)[
        "TRANSCRIPTION_RETRY_INTERVALS"] == []
    assert from_env({"TRANSCRIPTION_RETRY_INTERVALS": "5,10"}, tmp_path)[
        "TRANSCRIPTION_RETRY_INTERVALS"] == [5, 10]


@pytest.fixture
def zoned_app(app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """An app configured for another zone, with the environment saying the default."""
    monkeypatch.setenv("HOTLINE_TZ", DEFAULT_TZ)
    app_config["HOTLINE_TZ"] = ZONE
    return app_config


def test_the_sweep_command_dates_in_the_configured_zone(zoned_app: Any, app: Any,
                                                         clock: Any) -> None:
    session = db.session()
    clock.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    case_id = routed_case(session, clock.now).id  # due 2026-11-26
    session.commit()
    # 11-26 20:00 in Shanghai (the due day) but already 11-27 in Auckland.
    clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    result = app.test_cli_runner().invoke(args=["cases", "sweep"])
    assert result.exit_code == 0, result.output
    assert "新挂账 1 件" in result.output
    case = db.session.get(Case, case_id)
    assert case is not None and lead(case).overdue is True


def test_the_api_numbers_cases_by_the_configured_zone(zoned_app: Any, app: Any, client: Any,
                                                       clock: Any) -> None:
    with db.transaction() as session:
        _row, token = create_token(session, "web_platform", "公共服务平台", now=clock())
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 11-24 in Shanghai, 11-25 there
    response = client.post("/api/v1/cases", json={"description": "用电增容咨询"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    case = db.session.scalars(select(Case)).one()
    assert case.received_on.isoformat() == "2026-11-25"
    assert case.number.startswith("261125")
