"""Login throttle under concurrency, client addresses behind proxies, server-side logout."""

from __future__ import annotations

from typing import Any

import pytest

from console import throttle
from console.models import LoginCounter
from core.db import db
from tests.cases.factories import in_threads
from tests.console.conftest import PASSWORD, Accounts


def login(client: Any, username: str, password: str, **headers: str) -> Any:
    return client.post("/console/login", data={"username": username, "password": password},
                       headers=headers)


def test_concurrent_failures_never_exceed_the_account_limit(app: Any,
                                                            accounts: Accounts) -> None:
    """Twelve wrong passwords at once: exactly the limit are checked, the rest locked, no 500."""
    attempts = throttle.MAX_FAILURES_PER_USERNAME + 7
    statuses = in_threads(lambda _i: login(app.test_client(), "op", "wrong-pass-1").status_code,
                          attempts)
    assert sorted(statuses) == sorted([401] * throttle.MAX_FAILURES_PER_USERNAME
                                      + [429] * 7)
    assert login(app.test_client(), "op", PASSWORD).status_code == 429


def test_concurrent_good_logins_all_succeed(app: Any, accounts: Accounts) -> None:
    """Different people signing in at the same moment (SQLite included): never a 500."""
    names = ["op", "sup", "adm", "dept-a", "dept-b"] * 2
    statuses = in_threads(lambda i: login(app.test_client(), names[i], PASSWORD).status_code,
                          len(names))
    assert statuses == [303] * len(names)


def _address_failures(ip: str, failures: int, clock: Any) -> None:
    """``failures`` recent failed sign-ins from ``ip`` (cheaper than hashing that many)."""
    db.session.add(LoginCounter(scope="ip", subject=ip, window_start=clock(), failures=failures))
    db.session.commit()


def test_forwarded_for_is_ignored_without_trusted_proxies(client: Any, accounts: Accounts,
                                                          clock: Any) -> None:
    """A client cannot dodge the address limit by inventing X-Forwarded-For."""
    _address_failures("127.0.0.1", throttle.MAX_FAILURES_PER_IP - 1, clock)
    assert login(client, "guess", "wrong-pass-1",
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 401
    assert login(client, "op", PASSWORD,
                 **{"X-Forwarded-For": "10.9.9.9"}).status_code == 429


def test_behind_one_trusted_proxy_each_client_address_counts(app_config: dict[str, Any],
                                                             accounts: Accounts,
                                                             clock: Any) -> None:
    from app import create_app

    app_config["TRUSTED_PROXIES"] = 1
    client = create_app(app_config).test_client()
    _address_failures("10.0.0.1", throttle.MAX_FAILURES_PER_IP - 1, clock)
    assert login(client, "guess", "wrong-pass-1",
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 401
    assert login(client, "op", PASSWORD,
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    # The proxy's own address is shared by everyone; another office is not locked out.
    assert login(client, "op", PASSWORD,
                 **{"X-Forwarded-For": "10.0.0.2"}).status_code == 303


def _session_cookie(client: Any) -> str:
    cookie = client.get_cookie("hotline_session")
    assert cookie is not None
    return str(cookie.value)


def test_a_copied_cookie_stops_working_after_logout(client: Any, accounts: Accounts) -> None:
    assert login(client, "op", PASSWORD).status_code == 303
    stolen = _session_cookie(client)
    assert client.post("/console/logout").status_code == 303
    client.set_cookie("hotline_session", stolen)
    assert client.get("/console/queue").status_code == 302


def test_disabling_a_user_ends_their_sessions_even_if_re_enabled(client: Any,
                                                                 accounts: Accounts) -> None:
    from console.users import update_user

    assert login(client, "op", PASSWORD).status_code == 303
    session = db.session()
    for active in (False, True):
        update_user(session, accounts.operator.id, display_name="op", role="operator",
                    department=None, phone=None, active=active)
        session.commit()
    assert client.get("/console/queue").status_code == 302
    assert login(client, "op", PASSWORD).status_code == 303
    assert client.get("/console/queue").status_code == 200


@pytest.mark.parametrize("target", ["/console/queue\r\nSet-Cookie: x=1", "/console/\nqueue",
                                    "/console/queue\t"])
def test_control_characters_in_next_are_not_followed(client: Any, accounts: Accounts,
                                                     target: str) -> None:
    response = client.post("/console/login", data={"username": "op", "password": PASSWORD,
                                                   "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/queue"


def test_nul_in_next_is_refused_with_a_reason(client: Any, accounts: Accounts) -> None:
    response = client.post("/console/login", data={"username": "op", "password": PASSWORD,
                                                   "next": "/console/queue\x00"})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["宁波\x00公司", "\x00"])
def test_nul_in_a_console_form_is_400_with_a_reason(client: Any, accounts: Accounts,
                                                    sign_in: Any, value: str) -> None:
    sign_in(accounts.operator)
    response = client.post("/console/enterprises", data={"name": value})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
