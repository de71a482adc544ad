"""Fixtures of the case tests: the session of a test app and a voicemail file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.db import db
from tests.cases.factories import write_wav


@pytest.fixture
def session(app: Any) -> Session:
    """The app's session, on a freshly truncated database with departments seeded."""
    return db.session()


@pytest.fixture
def message_wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "message.wav")
