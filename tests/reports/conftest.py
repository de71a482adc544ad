"""Fixtures of the report tests: the test app's session (departments seeded)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.db import db


@pytest.fixture
def session(app: Any) -> Session:
    return db.session()
