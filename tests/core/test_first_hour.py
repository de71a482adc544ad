"""A newcomer's first minutes: the bare address, the banner and the README agree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from workers.banner import banner

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_bare_address_leads_to_the_console_login(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login"
    assert "登录" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_every_url_of_the_start_up_banner_is_in_the_readme() -> None:
    printed = banner(5000, "http://127.0.0.1:5000", "")
    urls = set(re.findall(r"http://[^\s,()]+", printed))
    assert "http://127.0.0.1:5000/" in urls and "http://127.0.0.1:5000/console/login" in urls
    readme = README.read_text()
    assert sorted(url for url in urls if url not in readme) == []
