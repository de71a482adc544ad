"""The 统计 page in Chromium, as a supervisor and as a department (screenshots)."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import db
from tests.console.conftest import DEPT_A, Accounts
from tests.console.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    Desk,
    live_config,
    live_server,
)
from tests.reports.month import NOW_TEXT, build_month

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


def charts_loaded(desk: Desk) -> int:
    """How many chart images were decoded (naturalWidth > 0) on the page (once it has loaded:
    the load event waits for every image to arrive or fail)."""
    return int(desk.page.evaluate(
        "() => Array.from(document.querySelectorAll('section.charts img'))"
        ".filter(i => i.complete && i.naturalWidth > 0).length"))


def test_reports_page_as_supervisor_and_department(live_server: str, browser: Any, app: Any,  # noqa: F811
                                                   accounts: Accounts, clock: Any) -> None:
    month = build_month(db.session())
    clock.set_local(NOW_TEXT)

    supervisor = Desk(browser, live_server)
    supervisor.enter(accounts.supervisor)
    supervisor.page.get_by_role("link", name="统计").click()
    supervisor.page.wait_for_load_state()
    supervisor.page.select_option("select[name=kind]", "month")
    supervisor.page.fill("input[name=month]", "2026-11")
    supervisor.page.get_by_role("button", name="查看").click()
    supervisor.page.wait_for_load_state()
    page = supervisor.page
    assert "2026年11月" in page.locator("h1").inner_text()
    assert page.locator("#unit-table tbody tr").count() == 2
    assert charts_loaded(supervisor) == 3
    supervisor.shot("20-reports-supervisor")
    # A figure is a link to exactly the cases it counts.
    page.locator("a[data-indicator=late]").click()
    page.wait_for_load_state()
    listed = page.locator("table.list tbody tr").all_inner_texts()
    assert len(listed) == 2 and any(month.cases["C"].number in row for row in listed)
    supervisor.shot("21-reports-late-cases")
    # 立即刷新 posts with the page's CSRF token and comes back to the same period.
    page.go_back()
    page.get_by_role("button", name="立即刷新").click()
    page.wait_for_load_state()
    assert "2026年11月的统计数据已重新计算" in page.content()
    assert "2026年11月" in page.locator("h1").inner_text() and charts_loaded(supervisor) == 3

    department = Desk(browser, live_server)
    department.enter(accounts.dept_a)
    department.go("/console/reports?kind=month&month=2026-11")
    department.page.wait_for_load_state()
    text = department.page.content()
    assert f"仅本单位：{DEPT_A}" in text and "unit-table" not in text
    assert department.page.locator("a[data-indicator=received]").inner_text() == "2"
    assert charts_loaded(department) == 2
    department.shot("22-reports-department")
    for desk in (supervisor, department):
        desk.close()
