"""A repeat request through the API finds the earlier case by the shared rule (并单)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases import duplicates
from cases.case_models import Case
from core.db import db
from tests.api.test_cases_api import BODY
from tests.cases.factories import OPERATOR


def test_a_repeat_through_the_api_lists_the_earlier_case(api: Any) -> None:
    first = api("POST", "/cases", json=BODY).get_json()
    again = api("POST", "/cases", json={**BODY, "description": "再次询问入园条件"},
                headers={"Idempotency-Key": "second"}).get_json()
    assert first["number"] != again["number"]
    session = db.session()
    later = session.scalars(select(Case).where(Case.number == again["number"])).one()
    assert [c.number for c in duplicates.candidates(session, later)] == [first["number"]]


def test_a_merged_case_names_the_earlier_number_in_its_status(api: Any, clock: Any) -> None:
    first = api("POST", "/cases", json=BODY).get_json()
    again = api("POST", "/cases", json={**BODY, "description": "再次询问入园条件"},
                headers={"Idempotency-Key": "second"}).get_json()
    session = db.session()
    later = session.scalars(select(Case).where(Case.number == again["number"])).one()
    first_case = session.scalars(select(Case).where(Case.number == first["number"])).one()
    assert api("GET", f"/cases/{again['number']}").get_json()["merged_into"] is None
    duplicates.merge(session, later.id, into_id=first_case.id, reason="重复",
                     actor=OPERATOR, now=clock())
    session.commit()
    status = api("GET", f"/cases/{again['number']}").get_json()
    assert (status["status"], status["status_label"], status["merged_into"]) == (
        "merged", "已并单", first["number"])
