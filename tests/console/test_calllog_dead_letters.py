"""The console lists call-log entries the drain could not write."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import db
from ivr.eventlog import PENDING_KEY, drain
from tests.console.conftest import Accounts


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str) -> dict[str, Any]:
    app_config["REDIS_URL"] = redis_url
    return app_config


def test_dead_letters_are_shown_to_the_centre(client, sign_in, accounts: Accounts, redis_conn):
    redis_conn.rpush(PENDING_KEY, '{"call_sid": "CA-poisoned", "from_number": "", '
                                  '"to_number": "", "flow": "hotline", "at": "yesterday"}')
    drain(redis_conn, db.transaction)
    sign_in(accounts.operator)
    page = client.get("/console/calls/dead-letters").get_data(as_text=True)
    assert "共 1 条" in page
    assert "CA-poisoned" in page and "Invalid isoformat" in page
    sign_in(accounts.dept_a)
    assert client.get("/console/calls/dead-letters").status_code == 403
