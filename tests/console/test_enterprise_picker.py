"""The review form names the enterprise by name or credit code, never by an internal id."""

from __future__ import annotations

from typing import Any

import pytest

from cases.case_models import Case
from cases.models import Enterprise
from core.db import db
from tests.console.conftest import Accounts, VoicemailCase

USCC = "91350100M000100Y43"


@pytest.fixture
def enterprises(app: Any, clock: Any) -> dict[str, Enterprise]:
    found = {
        "jia": Enterprise(name="宁波甲机械有限公司", uscc=USCC, created_at=clock()),
        "yi": Enterprise(name="宁波乙电子有限公司", created_at=clock()),
        "bing": Enterprise(name="奉化丙纺织有限公司", created_at=clock()),
    }
    db.session.add_all(found.values())
    db.session.commit()
    return found


def review(client: Any, case: Case, **fields: str) -> Any:
    data = {"description": case.description, "category": "factor", "subcategory": "finance",
            "contact_name": "", "contact_phone": "", **fields}
    return client.post(f"/console/cases/{case.id}/details", data=data)


def linked(case: Case) -> int | None:
    db.session.expire_all()
    found = db.session.get(Case, case.id)
    assert found is not None
    return found.enterprise_id


def test_the_form_asks_for_a_name_or_credit_code_not_an_id(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase) -> None:
    sign_in(accounts.operator)
    html = client.get(f"/console/cases/{voicemail_case.case.id}").get_data(as_text=True)
    assert 'name="enterprise"' in html and "名称或统一社会信用代码" in html
    assert "企业编号" not in html
    assert 'type="hidden" name="enterprise_id"' in html


@pytest.mark.parametrize(("typed", "key"), [("宁波甲机械有限公司", "jia"), (USCC, "jia"),
                                            (USCC.lower(), "jia"), ("丙纺织", "bing")])
def test_a_name_part_or_credit_code_links_the_enterprise(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase,
        enterprises: dict[str, Enterprise], typed: str, key: str) -> None:
    sign_in(accounts.operator)
    assert review(client, voicemail_case.case, enterprise=typed).status_code == 303
    assert linked(voicemail_case.case) == enterprises[key].id


def test_an_ambiguous_or_unknown_name_is_refused_with_the_reason(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase,
        enterprises: dict[str, Enterprise]) -> None:
    sign_in(accounts.operator)
    several = review(client, voicemail_case.case, enterprise="宁波")
    assert several.status_code == 422
    text = several.get_data(as_text=True)
    assert "匹配到多家企业" in text and "宁波甲机械有限公司" in text
    unknown = review(client, voicemail_case.case, enterprise="不存在的公司")
    assert unknown.status_code == 422 and "未找到企业" in unknown.get_data(as_text=True)
    assert linked(voicemail_case.case) is None


def test_the_picked_id_counts_only_while_the_text_still_names_it(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase,
        enterprises: dict[str, Enterprise]) -> None:
    sign_in(accounts.operator)
    jia, bing = enterprises["jia"], enterprises["bing"]
    review(client, voicemail_case.case, enterprise=jia.name, enterprise_id=str(jia.id))
    assert linked(voicemail_case.case) == jia.id
    # Picked 甲 from the list, then typed 丙's name over it: the text wins.
    review(client, voicemail_case.case, enterprise=bing.name, enterprise_id=str(jia.id))
    assert linked(voicemail_case.case) == bing.id
    review(client, voicemail_case.case, enterprise="", enterprise_id=str(bing.id))
    assert linked(voicemail_case.case) is None


def test_search_answers_json_for_the_centre_only(client: Any, accounts: Accounts,
                                                 sign_in: Any,
                                                 enterprises: dict[str, Enterprise]) -> None:
    sign_in(accounts.operator)
    by_name = client.get("/console/enterprises/search?q=宁波").get_json()["results"]
    assert {r["name"] for r in by_name} == {"宁波甲机械有限公司", "宁波乙电子有限公司"}
    by_code = client.get(f"/console/enterprises/search?q={USCC}").get_json()["results"]
    assert [(r["id"], r["uscc"]) for r in by_code] == [(enterprises["jia"].id, USCC)]
    assert client.get("/console/enterprises/search?q=宁").get_json()["results"] == []
    sign_in(accounts.dept_a)
    assert client.get("/console/enterprises/search?q=宁波").status_code == 403
