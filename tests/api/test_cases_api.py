"""``/api/v1``: token auth, validation errors, size limit, idempotency, status, OpenAPI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from api.schemas import CASE_FIELDS, MAX_BODY_BYTES
from api.tokens import create_token, revoke_token
from cases.actions.assignments import do_reply
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from core.db import db
from tests.cases.factories import CALENDAR, OPERATOR, department_id, liaison, local

BODY = {"description": "想了解小微企业园入园条件", "category": "factor", "subcategory": "land",
        "contact_name": "王经理", "contact_phone": "13800138000",
        "enterprise_name": "宁波丁机械有限公司", "enterprise_uscc": "91350100M000100Y43"}


def count_cases() -> int:
    return db.session().scalar(select(func.count()).select_from(Case)) or 0


def test_post_files_a_case_for_the_tokens_channel(api: Any) -> None:
    response = api("POST", "/cases", json=BODY)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["channel"], body["status"], body["status_label"]) == (
        "web_platform", "received", "已受理")
    assert response.headers["Location"] == f"/api/v1/cases/{body['number']}"
    case = db.session().scalars(select(Case)).one()
    assert case.enterprise is not None and case.enterprise.name == "宁波丁机械有限公司"


def test_missing_token_is_401(client: Any) -> None:
    response = client.post("/api/v1/cases", json=BODY)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_wrong_token_is_401(client: Any, token: str) -> None:
    response = client.post("/api/v1/cases", json=BODY,
                           headers={"Authorization": f"Bearer {token}x"})
    assert response.status_code == 401


def test_revoked_token_is_401(client: Any, app: Any, clock: Any) -> None:
    with db.transaction() as session:
        row, plaintext = create_token(session, "wechat", "公众号", now=clock())
        revoke_token(session, row.id, now=clock())
    response = client.get("/api/v1/cases/2611240001",
                          headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 401


def test_field_errors_are_422_with_chinese_messages_by_field(api: Any) -> None:
    response = api("POST", "/cases", json={"description": "", "category": "土地",
                                           "contact_phone": "123", "extra": 1})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"description", "category", "extra"}
    assert fields["description"] == "请填写诉求内容"


def test_intake_errors_are_422_too(api: Any) -> None:
    response = api("POST", "/cases", json={**BODY, "contact_phone": "123"})
    assert response.status_code == 422
    assert "contact_phone" in response.get_json()["error"]["fields"]
    assert count_cases() == 0


def test_naive_received_at_is_refused(api: Any) -> None:
    response = api("POST", "/cases", json={**BODY, "received_at": "2026-11-20T09:00:00"})
    assert response.status_code == 422
    assert "时区" in response.get_json()["error"]["fields"]["received_at"]


def test_received_at_with_offset_is_kept(api: Any, clock: Any) -> None:
    response = api("POST", "/cases", json={**BODY, "received_at": "2026-11-20T09:00:00+08:00"})
    assert response.status_code == 201
    assert db.session().scalars(select(Case)).one().received_at == local("2026-11-20 09:00")


def test_a_uscc_with_a_wrong_check_character_is_422(api: Any) -> None:
    response = api("POST", "/cases", json={**BODY, "enterprise_uscc": "91350100M000100Y44"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"]["enterprise_uscc"] == (
        "统一社会信用代码校验位不符：第18位应为 3，收到 4，请核对后重新提交")
    assert db.session().scalars(select(Case)).all() == []


@pytest.mark.parametrize("uscc", ["91350100M000100Y4", "91350100M000100YO3", "I1350100M000100Y43"])
def test_a_malformed_uscc_is_422(api: Any, uscc: str) -> None:
    response = api("POST", "/cases", json={**BODY, "enterprise_uscc": uscc})
    assert response.status_code == 422
    assert "统一社会信用代码" in response.get_json()["error"]["fields"]["enterprise_uscc"]


def test_a_valid_uscc_pasted_with_spaces_and_lower_case_is_accepted(api: Any) -> None:
    response = api("POST", "/cases", json={**BODY, "enterprise_uscc": " 91350100m000100y43 "})
    assert response.status_code == 201 and response.get_json()["warnings"] == []


def test_oversized_body_is_413(api: Any) -> None:
    response = api("POST", "/cases", json={"description": "很" * MAX_BODY_BYTES})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_non_json_body_is_415(api: Any) -> None:
    response = api("POST", "/cases", data={"description": "表单"})
    assert response.status_code == 415


def test_broken_json_is_400(api: Any) -> None:
    response = api("POST", "/cases", data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_same_idempotency_key_and_body_replays_the_first_response(api: Any) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = api("POST", "/cases", json=BODY, headers=headers)
    again = api("POST", "/cases", json=BODY, headers=headers)
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_cases() == 1


def test_same_idempotency_key_with_another_body_is_409(api: Any) -> None:
    headers = {"Idempotency-Key": "order-43"}
    api("POST", "/cases", json=BODY, headers=headers)
    other = api("POST", "/cases", json={**BODY, "description": "另一件事"}, headers=headers)
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_conflict"
    assert count_cases() == 1


def test_failed_request_does_not_burn_its_idempotency_key(api: Any) -> None:
    headers = {"Idempotency-Key": "order-44"}
    assert api("POST", "/cases", json={**BODY, "contact_phone": "1"},
               headers=headers).status_code == 422
    assert api("POST", "/cases", json=BODY, headers=headers).status_code == 201


def test_get_shows_status_departments_and_last_reply(api: Any, clock: Any) -> None:
    number = api("POST", "/cases", json=BODY).get_json()["number"]
    session = db.session()
    case = session.scalars(select(Case)).one()
    now = clock()
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区经信局"),
                           actor=OPERATOR, now=now, calendar=CALENDAR)
    do_reply(session, case.assignments[0].id, text="入园条件已发送至企业邮箱",
             actor=liaison(session, "区经信局"), now=now, calendar=CALENDAR)
    session.commit()
    body = api("GET", f"/cases/{number}").get_json()
    assert (body["status"], body["mode"], body["mode_label"]) == ("answered", "routed", "流转办")
    assert body["departments"][0]["name"] == "区经信局"
    assert body["last_reply"]["text"] == "入园条件已发送至企业邮箱"


def test_get_of_another_channels_case_is_404(api: Any, app: Any, client: Any,
                                             clock: Any) -> None:
    number = api("POST", "/cases", json=BODY).get_json()["number"]
    with db.transaction() as session:
        _row, other = create_token(session, "wechat", "公众号", now=clock())
    response = client.get(f"/api/v1/cases/{number}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404


def test_get_of_an_unknown_number_is_404(api: Any) -> None:
    response = api("GET", "/cases/2611240999")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "未找到该诉求"


def test_openapi_document_is_public_and_matches_the_validator(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/cases", "/cases/{number}"} <= set(document["paths"])
    request = document["components"]["schemas"]["CaseRequest"]
    assert set(request["properties"]) == set(CASE_FIELDS)
    assert request["required"] == ["description"]
    responses = document["paths"]["/cases"]["post"]["responses"]
    assert {"201", "401", "409", "413", "422"} <= set(responses)


@pytest.mark.parametrize(("received_at", "reason"), [
    ("0001-01-01T00:00:00+14:00", "早于"), ("1900-01-01T00:00:00+08:00", "早于"),
    ("9999-12-31T23:59:59-12:00", "晚于"), ("2030-01-01T00:00:00+08:00", "晚于"),
])
def test_received_at_far_in_the_past_or_future_is_422(api: Any, received_at: str,
                                                        reason: str) -> None:
    response = api("POST", "/cases", json={**BODY, "received_at": received_at})
    assert response.status_code == 422
    assert reason in response.get_json()["error"]["fields"]["received_at"]
    assert count_cases() == 0


@pytest.mark.parametrize("field", ["description", "contact_name", "enterprise_name"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff"])
def test_nul_and_lone_surrogates_in_text_are_422(api: Any, field: str, bad: str) -> None:
    # Raw JSON: a lone surrogate escape is valid JSON but not storable text.
    escaped = json.dumps(bad)
    body = json.dumps({**BODY, field: "x"}).replace('"x"', f'"x{escaped[1:-1]}y"')
    response = api("POST", "/cases", data=body, content_type="application/json",
                   headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "字符" in response.get_json()["error"]["fields"][field]
    assert count_cases() == 0


def test_lone_surrogate_in_an_unknown_field_name_is_422(api: Any) -> None:
    body = json.dumps(BODY)[:-1] + ', "\\ud800": "x"}'
    response = api("POST", "/cases", data=body, content_type="application/json",
                   headers={"Idempotency-Key": "k-2"})
    assert response.status_code == 422


@pytest.mark.parametrize(("field", "limit"), [("description", 5000), ("contact_name", 64)])
def test_length_limits_answer_with_the_shared_field_rules(api: Any, field: str,
                                                          limit: int) -> None:
    from cases.fields import FieldErrors, clean_contact_name, clean_description

    cleaner = {"description": clean_description, "contact_name": clean_contact_name}[field]
    too_long = "很" * (limit + 1)
    expected = FieldErrors()
    expected.clean(lambda: cleaner(too_long))
    response = api("POST", "/cases", json={**BODY, field: too_long})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][field] == expected.fields[field]
    assert count_cases() == 0


def test_a_description_of_spaces_is_missing_by_the_shared_rule(api: Any) -> None:
    response = api("POST", "/cases", json={**BODY, "description": "   "})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["description"] == "请填写诉求内容"
