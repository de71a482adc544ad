"""Fixtures of ``make run``'s tests (``tests.workers.stack_support``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workers.stack_support import seed_instance


@pytest.fixture(scope="session")
def seeded_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded instance directory, made once: copy it (``copy_instance``)."""
    return seed_instance(tmp_path_factory.mktemp("seeded") / "instance")
