"""Queue tests: the shared ``phone`` (whose switchboard moves the test's clock) and ``desk``
(operators on duty) fixtures live in tests/conftest.py; here the app's Twilio account."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import QUEUE_ACCOUNT_SID


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(TWILIO_ACCOUNT_SID=QUEUE_ACCOUNT_SID, TWILIO_CALLER_ID="+8657488888718")
    return app_config


@pytest.fixture
def board(phone: Any) -> Any:
    return phone.switchboard
