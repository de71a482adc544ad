"""The enterprise's town or street suggests its town or street office, and says why."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cases.enterprises import register_enterprise
from cases.town_suggestions import place_name, town_department
from tests.cases.factories import local, new_case


@pytest.mark.parametrize(("text", "place"), [
    ("溪口镇人民政府", "溪口"), ("溪口镇", "溪口"), ("溪口", "溪口"), (" 锦屏街道 ", "锦屏"),
    ("锦屏街道办事处", "锦屏"), ("镇", "镇"), ("", "")])
def test_place_names(text: str, place: str) -> None:
    assert place_name(text) == place


@pytest.mark.parametrize(("town", "unit"), [
    ("溪口镇", "溪口镇人民政府"), ("萧王庙街道", "萧王庙街道办事处"),
    ("萧王庙", "萧王庙街道办事处"),
    ("宁波市区", None), (None, None)])
def test_town_department(session: Session, town: str | None, unit: str | None) -> None:
    found = town_department(session, town)
    assert (found.name if found else None) == unit


def enterprise_in(session: Session, town: str | None) -> int:
    return register_enterprise(session, name="宁波甲机械有限公司", town=town,
                               now=local("2026-11-20 09:00")).enterprise.id


def test_the_town_office_follows_the_matter_based_suggestions(session: Session) -> None:
    case = new_case(session, local("2026-11-20 09:00"),
                    enterprise_id=enterprise_in(session, "溪口镇"))
    session.commit()
    rows = [(s.rank, s.department_name, s.source, s.keywords) for s in case.suggestions]
    assert rows[0][1:3] == ("区经信局", "description")
    assert rows[-1] == (len(rows), "溪口镇人民政府", "town", ["溪口镇"])


def test_without_a_known_town_nothing_is_added(session: Session) -> None:
    case = new_case(session, local("2026-11-20 09:00"),
                    enterprise_id=enterprise_in(session, "外地"))
    assert all(s.source != "town" for s in case.suggestions)


def test_the_town_alone_is_a_suggestion(session: Session) -> None:
    case = new_case(session, local("2026-11-20 09:00"), description="有事情需要反映",
                    enterprise_id=enterprise_in(session, "莼湖街道"))
    assert [(s.department_name, s.source) for s in case.suggestions] == [
        ("莼湖街道办事处", "town")]
