"""A newcomer's first minutes: the bare address, the banner and the README agree."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

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


@pytest.fixture
def calendar_without_data(monkeypatch: pytest.MonkeyPatch) -> None:
    from workdays.calendar import WorkCalendar

    monkeypatch.setattr(WorkCalendar, "years_without_data", lambda self, years: [2099])


def test_cli_commands_and_workers_do_not_warn_about_the_calendar(
        app_config: dict[str, Any], caplog: pytest.LogCaptureFixture,
        calendar_without_data: None) -> None:
    from app import create_app

    with caplog.at_level(logging.WARNING):
        create_app({**app_config, "TESTING": False})
    assert "working-day calendar" not in caplog.text


def test_the_web_server_warns_once_per_start(database_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture,
                                             calendar_without_data: None) -> None:
    from workers import gunicorn_conf

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    hotline = SimpleNamespace(app=SimpleNamespace(app_uri="app:create_app()"))
    bare = SimpleNamespace(app=SimpleNamespace(app_uri="bare_app:app"))
    with caplog.at_level(logging.WARNING):
        gunicorn_conf.when_ready(hotline)
        gunicorn_conf.when_ready(bare)
    assert caplog.text.count("working-day calendar: no official data for 2099") == 1
