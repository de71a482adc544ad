"""The queue in a real browser (Debian's Chromium driven by Playwright), on two web nodes.

Node A and node B are two instances of the app on two ports, each with its own queue
runtime, Redis connections, live-stream slots and wallboard cache: all they share is the
database and Redis, as two machines would (the multi-process version, with a node killed,
is tests/deploy). The operator's console is open on node B, the wallboard (实时监控) on node
A at 1920×1080; the caller's webhooks go to node A, then to node B. Every change has to
travel through the database and Redis pub/sub to show. Screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from callqueue import service
from callqueue.presence import State
from console.operators import agent_for
from core.db import db
from tests.conftest import AUTH_TOKEN
from tests.console.test_browser import CHROMIUM, Desk
from tests.queue_desk import entry_of

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

CALL_SID = "CA" + "b" * 32
CALLER = "+8613912345678"


def free_port() -> int:
    server = make_server("127.0.0.1", 0, lambda environ, start: [])
    port = server.server_port
    server.server_close()
    return port


class Node:
    """One web node: an app instance served on its own port."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{port}"
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.validator = RequestValidator(AUTH_TOKEN)

    def twilio(self, path: str, params: dict[str, str]) -> str:
        """A webhook to this node, signed as Twilio signs it."""
        client = self.app.test_client()
        signature = self.validator.compute_signature(self.url + path, params)
        response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code in (200, 204), response.get_data(as_text=True)
        return response.get_data(as_text=True)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str, redis_conn: Any) -> dict[str, Any]:
    port = free_port()
    app_config.update(WTF_CSRF_ENABLED=True, REDIS_URL=redis_url, PORT=port,
                      PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    return app_config


@pytest.fixture
def nodes(app: Any, app_config: dict[str, Any]) -> Iterator[tuple[Node, Node]]:
    from app import create_app

    other_port = free_port()
    other = create_app({**app_config, "PORT": other_port,
                        "PUBLIC_BASE_URL": f"http://127.0.0.1:{other_port}"})
    node_a, node_b = Node(app, app_config["PORT"]), Node(other, other_port)
    yield node_a, node_b
    node_a.stop()
    node_b.stop()


def on_duty(app: Any, user: Any) -> int:
    runtime = app.extensions["queue_runtime"]
    session = db.session()
    agent = agent_for(session, user, runtime.now())
    session.commit()
    runtime.commit(session, service.set_device(session, runtime, agent.id, "+8613900000001"))
    runtime.commit(session, service.set_presence(session, runtime, agent.id, State.IDLE,
                                                 now=runtime.now(), from_console=False))
    return agent.id


def test_screen_pop_and_wallboard_follow_a_caller_across_two_nodes(
        nodes: tuple[Node, Node], browser: Any, app: Any, accounts: Any, clock: Any) -> None:
    node_a, node_b = nodes
    on_duty(app, accounts.operator)

    operator = Desk(browser, node_b.url)
    operator.enter(accounts.operator, "/console/desk")
    page = operator.page
    expect(page.locator("#live-status")).to_have_text("实时通知已连接")
    expect(page.locator("#presence-label")).to_have_text("空闲")

    board = Desk(browser, node_a.url, width=1920, height=1080)
    board.enter(accounts.supervisor, "/console/live")
    wall = board.page
    expect(wall.locator("#board-live")).to_have_text("实时")
    expect(wall.locator("#waiting-count")).to_have_text("0")

    # A caller chooses 要素保障 → 融资 through node A and joins the queue: the operator's
    # device is rung (placed by a job) and node B's console shows the caller.
    params = {"AccountSid": app.config["TWILIO_ACCOUNT_SID"], "CallSid": CALL_SID,
              "From": CALLER, "To": "+8657488888718", "CallStatus": "in-progress"}
    node_a.twilio("/ivr/voice", {**params, "CallStatus": "ringing"})
    node_a.twilio("/ivr/flow/hotline/main_menu?event=gather", {**params, "Digits": "1"})
    joined = node_a.twilio("/ivr/flow/hotline/factor_menu?event=gather&cat=factor",
                           {**params, "Digits": "5"})
    assert "<Enqueue" in joined
    pop = page.locator("#screen-pop")
    expect(pop).to_be_visible()
    expect(pop.locator(".pop-number")).to_have_text("+86139****5678")
    expect(pop.locator(".pop-area")).to_have_text("要素保障 · 融资")
    expect(page.locator("#presence-label")).to_have_text("振铃")
    assert CALLER not in page.content()
    operator.shot("20-desk-screen-pop")

    # Node A's wallboard: one caller waiting, the operator ringing, today's figures.
    expect(wall.locator("#waiting-count")).to_have_text("1")
    expect(wall.locator("#operator-list .op-state")).to_have_text(["振铃"])
    expect(wall.locator("#today-offered")).to_have_text("1")
    board.shot("21-wallboard-waiting")

    # Readable from across the room: big figures, everything on one 1920×1080 screen.
    value_size = wall.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#waiting-count')).fontSize)")
    assert value_size >= 90
    assert wall.evaluate("document.documentElement.scrollHeight") <= 1080
    assert wall.evaluate("document.documentElement.scrollWidth") <= 1920

    # 30 s later the caller hangs up; Twilio tells node B. Both pages follow.
    clock.now += timedelta(seconds=30)
    node_b.twilio("/ivr/flow/hotline/operator?event=queue&cat=factor&sub=finance",
                  {**params, "QueueResult": "hangup", "QueueTime": "30"})
    expect(page.locator("#pop-status")).to_have_text("来电已挂断")
    expect(page.locator("#presence-label")).to_have_text("空闲")
    expect(page.locator("#presence-notice")).to_have_text("来电已挂断。")
    expect(wall.locator("#waiting-count")).to_have_text("0")
    expect(wall.locator("#today-abandoned")).to_have_text("1")
    expect(wall.locator("#operator-list .op-state")).to_have_text(["空闲"])
    operator.shot("22-desk-caller-gone")
    board.shot("23-wallboard-after")
    assert entry_of(CALL_SID).status == "abandoned"
    board.close()
    operator.close()


def test_presence_chosen_in_the_browser_reaches_the_other_nodes_wallboard(
        nodes: tuple[Node, Node], browser: Any, app: Any, accounts: Any) -> None:
    node_a, node_b = nodes
    on_duty(app, accounts.operator)
    operator = Desk(browser, node_b.url)
    operator.enter(accounts.operator, "/console/desk")
    board = Desk(browser, node_a.url)
    board.enter(accounts.supervisor, "/console/live")
    expect(board.page.locator("#operator-list .op-state")).to_have_text(["空闲"])
    operator.page.get_by_role("button", name="小休").click()
    operator.expect_flash("状态已改为小休")
    expect(board.page.locator("#operator-list .op-state")).to_have_text(["小休"])
    operator.close()
    board.close()

