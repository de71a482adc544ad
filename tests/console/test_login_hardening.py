"""Login throttle under concurrency, client addresses behind proxies, server-side logout."""

from __future__ import annotations

from datetime import timedelta
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


def test_concurrent_failures_are_serialised_by_the_delay(app: Any, accounts: Accounts,
                                                         clock: Any) -> None:
    """Twelve wrong passwords at once: the free tries and one more are checked, the rest
    wait (429 with Retry-After), never a 500."""
    attempts = throttle.FREE_PER_PAIR + 9
    responses = in_threads(lambda _i: login(app.test_client(), "op", "wrong-pass-1"), attempts)
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == sorted([401] * (throttle.FREE_PER_PAIR + 1) + [429] * 8)
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["Cache-Control"] == "no-store"


def test_the_owner_is_never_locked_out_by_a_guesser(app_config: dict[str, Any],
                                                    accounts: Accounts, clock: Any,
                                                    cheap_hashes: None) -> None:
    """However long someone guesses from one address, the owner signs in from another at
    once, and from the guesser's address after the delay: nothing locks the account."""
    from app import create_app

    app_config["TRUSTED_PROXIES"] = 1
    client = create_app(app_config).test_client()
    guesser = {"X-Forwarded-For": "203.0.113.9"}
    checked = 0
    for _ in range(40):
        status = login(client, "adm", "wrong-pass-1", **guesser).status_code
        checked += status == 401
        if status == 429:
            clock.now += throttle.delay_after(checked, throttle.FREE_PER_PAIR,
                                              throttle.MAX_PAIR_DELAY) or timedelta(0)
    assert login(client, "adm", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"}
                 ).status_code == 303
    assert login(client, "adm", "wrong-pass-1", **guesser).status_code == 429
    clock.now += throttle.MAX_PAIR_DELAY
    assert login(client, "adm", PASSWORD, **guesser).status_code == 303


def test_the_delay_grows_and_is_capped() -> None:
    delays = [throttle.delay_after(n, throttle.FREE_PER_PAIR, throttle.MAX_PAIR_DELAY)
              for n in range(1, 16)]
    assert delays[:3] == [None, None, None]
    seconds = [d.total_seconds() for d in delays[3:] if d is not None]
    assert seconds[:4] == [1, 2, 4, 8] and seconds == sorted(seconds)
    assert max(seconds) == throttle.MAX_PAIR_DELAY.total_seconds()


def test_an_administrator_can_unlock_an_account(client: Any, accounts: Accounts,
                                                clock: Any, cheap_hashes: None) -> None:
    for _ in range(throttle.FREE_PER_PAIR + 1):
        assert login(client, "op", "wrong-pass-1").status_code == 401
    assert login(client, "op", PASSWORD).status_code == 429
    admin = app_client_as_admin(client)
    assert admin.post(f"/console/admin/users/{accounts.operator.id}/unlock").status_code == 303
    assert login(client, "op", PASSWORD).status_code == 303


def app_client_as_admin(client: Any) -> Any:
    other = client.application.test_client()
    assert login(other, "adm", PASSWORD).status_code == 303
    return other


def _address_failures(ip: str, failures: int, clock: Any) -> None:
    """``failures`` recent failed sign-ins from ``ip`` (cheaper than hashing that many)."""
    delay = throttle.delay_after(failures, throttle.FREE_PER_IP, throttle.MAX_IP_DELAY)
    db.session.add(LoginCounter(scope="ip", subject=ip, window_start=clock(), failures=failures,
                                blocked_until=clock() + delay if delay else None))
    db.session.commit()


def test_forwarded_for_is_ignored_without_trusted_proxies(client: Any, accounts: Accounts,
                                                          clock: Any) -> None:
    """A client cannot dodge the address limit by inventing X-Forwarded-For."""
    _address_failures("127.0.0.1", throttle.FREE_PER_IP, clock)
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
    _address_failures("10.0.0.1", throttle.FREE_PER_IP, clock)
    assert login(client, "guess", "wrong-pass-1",
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 401
    assert login(client, "op", PASSWORD,
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    # The proxy's own address is shared by everyone; another office is not slowed down.
    assert login(client, "op", PASSWORD,
                 **{"X-Forwarded-For": "10.0.0.2"}).status_code == 303
    # And the shared address waits at most a minute, however many failures it has.
    clock.now += throttle.MAX_IP_DELAY
    assert login(client, "op", PASSWORD,
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 303


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
