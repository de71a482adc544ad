"""Fixtures of the batch import tests: the session of a test app."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.db import db


@pytest.fixture
def session(app: Any) -> Session:
    """The app's session, on a freshly truncated database with departments seeded."""
    return db.session()
