"""``flask call --at`` against a running server: the time travels, on a local set-up only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from ivr import simulated_time
from ivr.phone import InProcessTransport, TerminalPhone
from tests.conftest import AUTH_TOKEN

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOLIDAY = datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)  # National Day, mid-morning
LOCAL = {"PUBLIC_BASE_URL": "http://127.0.0.1:5000", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
         "TRUSTED_PROXIES": 0}


def signed(call_sid: str = "CA1", at: datetime = HOLIDAY, token: str = AUTH_TOKEN) -> str:
    return simulated_time.header_value(token, call_sid, at)


def test_a_local_server_honours_a_signed_time() -> None:
    at = simulated_time.honoured_time(LOCAL, value=signed(), remote_addr="127.0.0.1",
                                      call_sid="CA1")
    assert at == HOLIDAY


@pytest.mark.parametrize(("config", "remote"), [
    ({**LOCAL, "PUBLIC_BASE_URL": "https://hotline.example.gov.cn"}, "127.0.0.1"),
    ({**LOCAL, "PUBLIC_BASE_URL": "http://hotline.example.gov.cn"}, "127.0.0.1"),
    ({**LOCAL, "TRUSTED_PROXIES": 1}, "127.0.0.1"),
    (LOCAL, "10.1.2.3"),
    (LOCAL, None),
])
def test_anything_but_a_local_setup_ignores_it(config: dict[str, Any], remote: str | None
                                               ) -> None:
    assert simulated_time.honoured_time(config, value=signed(), remote_addr=remote,
                                        call_sid="CA1") is None


@pytest.mark.parametrize("value", [
    signed(token="another-token"),            # not signed with this hotline's token
    signed(call_sid="CA2"),                   # signed for another call
    HOLIDAY.isoformat() + ";",                # no signature
    "2026-10-02T10:00:00+08:00",              # no separator at all
    signed().replace("10:00:00", "11:00:00"),  # the time changed after signing
])
def test_a_header_not_signed_for_this_call_is_ignored(value: str) -> None:
    assert simulated_time.honoured_time(LOCAL, value=value, remote_addr="127.0.0.1",
                                        call_sid="CA1") is None


def local_app(app_config: dict[str, Any], base_url: str) -> Any:
    from app import create_app

    return create_app({**app_config, "PUBLIC_BASE_URL": base_url})


def test_the_phone_sends_the_time_and_the_flow_hears_a_holiday(app: Any, app_config: Any,
                                                                clock: Any) -> None:
    clock.set_local("2026-11-24 10:00")  # the server's own time: a working morning
    application = local_app(app_config, "http://127.0.0.1:5000")

    def phone(at: datetime | None) -> TerminalPhone:
        return TerminalPhone(transport=InProcessTransport(application),
                             base_url="http://127.0.0.1:5000", auth_token=AUTH_TOKEN,
                             account_sid="AC" + "1" * 32, echo=lambda _line: None,
                             simulated_at=at)

    holiday = phone(HOLIDAY).call(keys=["2", "1"])
    assert any("非工作时间" in line for line in holiday.heard), holiday.heard
    working = phone(None).call(keys=["2", "1"])
    assert not any("非工作时间" in line for line in working.heard), working.heard


def test_a_public_server_ignores_the_time(app: Any, app_config: Any, clock: Any) -> None:
    clock.set_local("2026-11-24 10:00")
    application = local_app(app_config, "https://hotline.example.test")
    outcome = TerminalPhone(transport=InProcessTransport(application),
                            base_url="https://hotline.example.test", auth_token=AUTH_TOKEN,
                            account_sid="AC" + "1" * 32, echo=lambda _line: None,
                            simulated_at=HOLIDAY).call(keys=["2", "1"])
    assert not any("非工作时间" in line for line in outcome.heard), outcome.heard


@pytest.fixture
def running_server(app_config: dict[str, Any], app: Any) -> Iterator[str]:
    """The hotline served over HTTP on a free loopback port, as ``make run`` serves it."""
    server = make_server("127.0.0.1", 0, app)  # bound first: its port names the public URL
    base_url = f"http://127.0.0.1:{server.server_port}"
    server.app = local_app(app_config, base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(5)


def test_call_command_at_travels_to_a_running_server(app: Any, clock: Any,
                                                      running_server: str) -> None:
    clock.set_local("2026-11-24 10:00")
    result = app.test_cli_runner().invoke(args=[
        "call", "--url", running_server, "--digits", "2,1", "--at", "2026-10-02 10:00"])
    assert result.exit_code == 0, result.output
    assert "非工作时间" in result.output
