"""Nothing is skipped in CI (``CI=true``): a skip there (missing ffmpeg, model…) is a failure.

Both kinds: a test that skips while it runs, and a module that skips while it is collected
(``pytest.importorskip`` or ``pytest.skip(allow_module_level=True)`` at its top). Loaded by
``tests/conftest.py``; ``python -m pytest -p tests.ci_no_skips`` loads it on its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run everything: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    report: Any = outcome.get_result()  # type: ignore[attr-defined]
    if _in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped while collected in CI, which must run everything: " \
                          f"{report.longrepr}"
