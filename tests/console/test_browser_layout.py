"""In a real browser at a small office screen's width: every menu item in view, none hidden."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import Accounts
from tests.console.test_browser import (  # noqa: F401  (fixtures and the skip mark)
    SCREENSHOTS,
    Desk,
    live_config,
    live_server,
    pytestmark,
)


@pytest.mark.parametrize("width", [1024, 1280])
def test_the_admin_menu_shows_every_item(live_server: str, browser: Any,  # noqa: F811
                                         accounts: Accounts, width: int) -> None:
    desk = Desk(browser, live_server, width=width, height=768)
    desk.enter(accounts.admin, "/console/admin/users")
    page = desk.page
    links = page.locator("nav.mainnav a")
    assert links.count() >= 14  # an administrator's whole menu
    hidden = []
    for index in range(links.count()):
        link = links.nth(index)
        box = link.bounding_box()
        # In the viewport and clickable there: nothing scrolled or clipped away.
        if box is None or box["x"] < 0 or box["x"] + box["width"] > width or \
                not link.is_visible():
            hidden.append(link.inner_text())
            continue
        middle = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
        on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('a')"
                               "?.textContent", [middle["x"], middle["y"]])
        if (on_top or "").strip() != link.inner_text().strip():
            hidden.append(link.inner_text())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"admin-menu-{width}.png"))
    desk.close()
    assert hidden == []
