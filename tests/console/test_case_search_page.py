"""The console's case search: words of the request, transcripts and replies, highlighted."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from core.db import db
from tests.cases.factories import local, new_case

NOW = local("2026-11-24 10:00")


def test_console_search_finds_and_highlights(client: Any, accounts: Any, sign_in: Any) -> None:
    session: Session = db.session()
    loan = new_case(session, NOW, "希望协调<银行>续贷，贷款到期")
    other = new_case(session, NOW, "厂房用电增容")
    session.commit()
    sign_in(accounts.operator)
    html = client.get("/console/queue?q=贷款").get_data(as_text=True)
    assert loan.number in html and other.number not in html
    assert "<mark>贷款</mark>" in html and "&lt;银行&gt;" in html
    assert "按词检索“贷款”" in html
    sign_in(accounts.supervisor)
    html = client.get("/console/supervisor/cases?q=续贷").get_data(as_text=True)
    assert loan.number in html and other.number not in html
    assert re.search(r"<mark>续贷</mark>", html)
    numbers = client.get(f"/console/supervisor/cases?q={loan.number}").get_data(as_text=True)
    assert loan.number in numbers and other.number not in numbers
