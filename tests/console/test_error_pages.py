"""Error answers: Chinese pages for people, JSON with a reason for programs under /api/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.console.conftest import Accounts

ENGLISH = re.compile(r"Not Found|Method Not Allowed|Internal Server Error|The requested URL")


def _page(response: Any) -> str:
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert not ENGLISH.search(text), text
    return text


def test_unknown_page_is_a_chinese_404(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    text = _page(response)
    assert "页面不存在" in text
    assert 'lang="zh-CN"' in text


def test_unknown_console_page_signed_in_is_a_chinese_404(client: Any, sign_in: Any,
                                                         accounts: Accounts) -> None:
    sign_in(accounts.operator)
    response = client.get("/console/cases/999999")
    assert response.status_code == 404
    assert "页面不存在" in _page(response)


def test_get_of_a_form_address_is_a_chinese_405(client: Any, sign_in: Any,
                                                accounts: Accounts) -> None:
    sign_in(accounts.operator)
    response = client.get("/console/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "不支持此操作" in _page(response)


def test_wrong_role_is_a_chinese_403(client: Any, sign_in: Any, accounts: Accounts) -> None:
    sign_in(accounts.dept_a)
    response = client.get("/console/admin/users")
    assert response.status_code == 403
    assert "无权访问" in _page(response)


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/cases/1/nope",
                                  "/api/v1/kb/nope/deeper", "/api/elsewhere"])
def test_unknown_api_path_is_json_with_a_reason(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == f"接口不存在：GET {path}"


def test_wrong_method_on_the_api_is_json(client: Any) -> None:
    response = client.delete("/api/v1/openapi.json")
    assert response.status_code == 405
    assert response.is_json
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "DELETE" in response.get_json()["error"]["message"]
    assert "GET" in response.headers["Allow"]


@pytest.fixture
def failing_app(app_config: dict[str, Any]) -> Any:
    """The app with one console page and one API path that fail unexpectedly."""
    from app import create_app

    application = create_app(app_config)
    application.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> Any:
        raise OperationalError("SELECT 1", {}, Exception("database is away"))

    application.add_url_rule("/api/v1/broken", "api_broken", broken)
    application.add_url_rule("/console/broken", "console_broken", broken)
    return application


def test_unexpected_error_is_a_chinese_500_page(failing_app: Any) -> None:
    response = failing_app.test_client().get("/console/broken")
    assert response.status_code == 500
    text = _page(response)
    assert "系统出错" in text and "请稍后重试" in text


def test_unexpected_error_on_the_api_is_json(failing_app: Any) -> None:
    response = failing_app.test_client().get("/api/v1/broken")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "请稍后重试" in response.get_json()["error"]["message"]
