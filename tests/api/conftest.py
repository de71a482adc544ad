"""A channel token and a JSON client for the intake API."""

from __future__ import annotations

from typing import Any

import pytest

from api.tokens import create_token
from core.db import db


@pytest.fixture
def token(app: Any, clock: Any) -> str:
    """Plaintext token of the web platform channel."""
    with db.transaction() as session:
        _row, plaintext = create_token(session, "web_platform", "公共服务平台", now=clock())
    return plaintext


@pytest.fixture
def api(client: Any, token: str) -> Any:
    """``api(method, path, json=…, headers=…)`` with the bearer token."""

    def call(method: str, path: str, *, headers: dict[str, str] | None = None,
             **kwargs: Any) -> Any:
        return client.open(f"/api/v1{path}", method=method,
                           headers={"Authorization": f"Bearer {token}", **(headers or {})},
                           **kwargs)

    return call
