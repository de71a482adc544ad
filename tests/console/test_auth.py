"""Signing in: hashed passwords, cookie flags, throttling, logout, CSRF, safe redirects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from console import throttle
from console.models import LoginCounter, User
from console.passwords import hash_password, password_problem, verify_password
from core.db import db
from tests.console.conftest import PASSWORD, Accounts, csrf_token


def login(client: Any, username: str, password: str, **extra: str) -> Any:
    return client.post("/console/login", data={"username": username, "password": password,
                                                **extra})


def test_password_is_stored_as_an_argon2_hash() -> None:
    hashed = hash_password("Abcdefg-1")
    assert hashed.startswith("$argon2id$") and "Abcdefg-1" not in hashed
    # RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes): tests that only
    # count attempts may hash more cheaply, the product never does.
    assert extract_parameters(hashed) == RFC_9106_LOW_MEMORY
    assert verify_password(hashed, "Abcdefg-1")
    assert not verify_password(hashed, "abcdefg-1")
    assert not verify_password(None, "Abcdefg-1")
    assert password_problem("Console-test-1") is None


@pytest.mark.parametrize("weak", [
    "password1", "aaaaaaa1", "        1", "  password1  ", "password123", "qwertyuiop",
    "1qaz2wsx3edc", "iloveyou123", "abcdefghij", "1234567890", "aaaaaaaaaaaa1",
    "fenghua8718", "Fenghua8718!", "88888718hotline", "operator-01", "Abcdefg-1"])
def test_short_common_or_guessable_passwords_are_refused(weak: str) -> None:
    assert password_problem(weak, user_inputs=("operator-01", "值班员")) is not None


@pytest.mark.parametrize("good", ["Console-test-1", "river-lantern-47", "晨光路口的梧桐树2026",
                                  "demo-x7Kq2mPz9w"])
def test_long_uncommon_passwords_are_accepted(good: str) -> None:
    assert password_problem(good) is None


def test_the_policy_applies_when_an_account_is_created_or_changed(app: Any,
                                                                  accounts: Accounts,
                                                                  clock: Any) -> None:
    from cases.errors import InvalidInput
    from console.users import create_user, set_password

    session = db.session()
    with pytest.raises(InvalidInput) as created:
        create_user(session, username="op2", display_name="值班员", role="operator",
                    password="password1", now=clock())
    assert "password" in created.value.fields
    with pytest.raises(InvalidInput) as changed:
        set_password(session, accounts.operator.id, "aaaaaaa1", now=clock())
    assert "password" in changed.value.fields


def test_login_sets_a_hardened_session_cookie_and_goes_home(client: Any,
                                                            accounts: Accounts) -> None:
    response = login(client, "op", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/queue"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # PUBLIC_BASE_URL of the tests is https://: the cookie is Secure.
    assert "Secure" in cookie
    assert client.get("/console/queue").status_code == 200


def test_cookie_is_not_secure_on_a_plain_http_installation(app_config: dict[str, Any],
                                                           accounts: Accounts) -> None:
    from app import create_app

    app_config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    local = create_app(app_config)
    assert local.config["SESSION_COOKIE_SECURE"] is False
    assert local.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize(("role", "home"), [("department", "/console/department"),
                                            ("supervisor", "/console/supervisor"),
                                            ("admin", "/console/supervisor")])
def test_each_role_lands_on_its_home(client: Any, accounts: Accounts, role: str,
                                     home: str) -> None:
    response = login(client, accounts.by_role(role).username, PASSWORD)
    assert response.headers["Location"] == home


def test_wrong_password_and_unknown_user_look_the_same(client: Any, accounts: Accounts) -> None:
    wrong = login(client, "op", "nope-nope-1")
    unknown = login(client, "nobody", "nope-nope-1")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)
    assert client.get("/console/queue").status_code == 302


def test_disabled_user_cannot_sign_in(client: Any, accounts: Accounts) -> None:
    accounts.operator.active = False
    db.session.commit()
    assert login(client, "op", PASSWORD).status_code == 401


def test_failures_beyond_the_free_ones_make_the_next_try_wait(client: Any, accounts: Accounts,
                                                               clock: Any,
                                                               cheap_hashes: None) -> None:
    for _ in range(throttle.FREE_PER_PAIR + 1):
        assert login(client, "op", "wrong-pass-1").status_code == 401
    waiting = login(client, "op", PASSWORD)
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "1"
    assert "登录失败次数较多，请1秒后再试" in waiting.get_data(as_text=True)
    # Another user from the same address is not affected.
    assert login(client, "sup", PASSWORD).status_code == 303
    # After the delay the right password is accepted: nothing was locked.
    clock.now += timedelta(seconds=1)
    assert login(client, "op", PASSWORD).status_code == 303


def test_counts_restart_after_the_window(client: Any, accounts: Accounts, clock: Any,
                                         cheap_hashes: None) -> None:
    for _ in range(throttle.FREE_PER_PAIR + 1):
        login(client, "op", "wrong-pass-1")
    clock.now = clock.now + throttle.WINDOW
    for _ in range(throttle.FREE_PER_PAIR):
        assert login(client, "op", "wrong-pass-1").status_code == 401


def test_success_restarts_the_count(client: Any, accounts: Accounts,
                                    cheap_hashes: None) -> None:
    for _ in range(throttle.FREE_PER_PAIR):
        login(client, "op", "wrong-pass-1")
    assert login(client, "op", PASSWORD).status_code == 303
    for _ in range(throttle.FREE_PER_PAIR):
        assert login(client, "op", "wrong-pass-1").status_code == 401
    assert login(client, "op", PASSWORD).status_code == 303


def test_many_failures_from_one_address_slow_it_for_at_most_a_minute(
        client: Any, accounts: Accounts, clock: Any) -> None:
    session = db.session()
    session.add(LoginCounter(scope="ip", subject="127.0.0.1", window_start=clock(),
                             failures=10 * throttle.FREE_PER_IP,
                             blocked_until=clock() + throttle.MAX_IP_DELAY))
    session.commit()
    assert login(client, "op", PASSWORD).status_code == 429
    clock.now += throttle.MAX_IP_DELAY
    assert login(client, "op", PASSWORD).status_code == 303


def test_logout_ends_the_session(client: Any, accounts: Accounts) -> None:
    login(client, "op", PASSWORD)
    response = client.post("/console/logout")
    assert response.status_code == 303
    assert client.get("/console/queue").status_code == 302


def test_password_change_ends_other_sessions(client: Any, accounts: Accounts,
                                             clock: Any) -> None:
    from console.users import set_password

    login(client, "op", PASSWORD)
    set_password(db.session(), accounts.operator.id, "Another-pass-2", now=clock())
    db.session.commit()
    assert client.get("/console/queue").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/ivr/voice", "/console\\..\\x"])
def test_next_parameter_cannot_leave_the_console(client: Any, accounts: Accounts,
                                                 target: str) -> None:
    response = login(client, "op", PASSWORD, next=target)
    assert response.headers["Location"] == "/console/queue"


def test_next_parameter_inside_the_console_is_followed(client: Any, accounts: Accounts) -> None:
    response = login(client, "op", PASSWORD, next="/console/calls?voicemail=1")
    assert response.headers["Location"] == "/console/calls?voicemail=1"


def test_anonymous_get_redirects_to_login_with_next(client: Any) -> None:
    response = client.get("/console/calls?voicemail=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login?next=/console/calls?voicemail%3D1"


def test_pages_are_not_cached_and_framing_is_refused(client: Any) -> None:
    response = client.get("/console/login")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'self'
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# -- CSRF (on, as in production) ------------------------------------------------------------


@pytest.fixture
def csrf_client(app_config: dict[str, Any], accounts: Accounts) -> Any:
    from app import create_app

    app_config["WTF_CSRF_ENABLED"] = True
    return create_app(app_config).test_client()


def test_login_form_without_csrf_token_is_refused(csrf_client: Any) -> None:
    response = login(csrf_client, "op", PASSWORD)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_forms_with_the_token_work_and_without_are_refused(csrf_client: Any) -> None:
    token = csrf_token(csrf_client)
    assert login(csrf_client, "op", PASSWORD, csrf_token=token).status_code == 303
    page_token = csrf_token(csrf_client, "/console/enterprises")
    refused = csrf_client.post("/console/enterprises", data={"name": "宁波甲有限公司"})
    assert refused.status_code == 400
    accepted = csrf_client.post("/console/enterprises",
                                data={"name": "宁波甲有限公司", "csrf_token": page_token})
    assert accepted.status_code == 303
    forged = csrf_client.post("/console/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 400


def test_webhooks_and_api_are_exempt(csrf_client: Any) -> None:
    from twilio.request_validator import RequestValidator

    from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

    params = {"CallSid": "CA" + "7" * 32, "From": "+8613800138000", "To": "+8657488888718",
              "CallStatus": "ringing", "AccountSid": "AC" + "1" * 32}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/ivr/voice",
                                                               params)
    voice = csrf_client.post("/ivr/voice", data=params,
                             headers={"X-Twilio-Signature": signature})
    assert voice.status_code == 200 and b"<Response>" in voice.data
    api = csrf_client.post("/api/v1/cases", json={"description": "x"})
    assert api.status_code == 401  # token auth answers, not CSRF


def test_user_row_never_holds_the_password(accounts: Accounts) -> None:
    stored = db.session.get(User, accounts.operator.id)
    assert stored is not None and PASSWORD not in stored.password_hash
