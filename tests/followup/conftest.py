"""Fixtures of the follow-through tests: a fake Twilio REST API, jobs run in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core import jobs as context
from core.db import db
from tests.followup.support import ACCOUNT_SID, FakeTwilio


@pytest.fixture
def twilio_http() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_http: FakeTwilio) -> dict[str, Any]:
    app_config.update({
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_HTTP_CLIENT": twilio_http,
        "TWILIO_CALLER_ID": "+8657488888718",
        "FOLLOWUP_AUTO_CALLS": True,
        "SMS_SENDER": "+8610690000",
    })
    return app_config


@pytest.fixture
def jobs(app: Any) -> Iterator[Any]:
    """Jobs called in-process run in the test's app."""
    context.set_app(app)
    yield app
    context.set_app(None)
    db.session.remove()


@pytest.fixture
def session(app: Any) -> Session:
    return db.session()
