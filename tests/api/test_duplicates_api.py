"""A repeat request through the API finds the earlier case by the shared rule (并单)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases import duplicates
from cases.case_models import Case
from core.db import db
from tests.api.test_cases_api import BODY


def test_a_repeat_through_the_api_lists_the_earlier_case(api: Any) -> None:
    first = api("POST", "/cases", json=BODY).get_json()
    again = api("POST", "/cases", json={**BODY, "description": "再次询问入园条件"},
                headers={"Idempotency-Key": "second"}).get_json()
    assert first["number"] != again["number"]
    session = db.session()
    later = session.scalars(select(Case).where(Case.number == again["number"])).one()
    assert [c.number for c in duplicates.candidates(session, later)] == [first["number"]]
