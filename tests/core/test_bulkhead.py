"""The bulkhead keeps threads for webhooks: public requests beyond their slots are refused at
once (503), webhooks never are (core.bulkhead)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from werkzeug.test import Client
from werkzeug.wrappers import Response

from core.bulkhead import Bulkhead


def blocking_app(release: threading.Event, entered: threading.Semaphore) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/slow"):
            entered.release()
            release.wait(10)
        return Response("ok")(environ, start_response)

    return app


def test_public_requests_beyond_their_slots_are_refused_and_webhooks_still_pass() -> None:
    release, entered = threading.Event(), threading.Semaphore(0)
    bulkhead = Bulkhead(blocking_app(release, entered), slots=2)
    client = Client(bulkhead)
    held = [threading.Thread(target=lambda: client.get("/slow/kb")) for _ in range(2)]
    for thread in held:
        thread.start()
    for _ in held:
        assert entered.acquire(timeout=10)  # both slots are taken now
    try:
        refused = client.get("/api/v1/kb/search?q=x")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["Cache-Control"] == "no-store"
        assert client.post("/ivr/voice").status_code == 200  # webhooks: never refused
        assert client.get("/healthz").status_code == 200
        assert bulkhead.refused == 1
    finally:
        release.set()
        for thread in held:
            thread.join(10)
    assert client.get("/api/v1/kb/search?q=x").status_code == 200  # slots given back


def test_a_failing_request_gives_its_slot_back() -> None:
    def failing(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("boom")

    bulkhead = Bulkhead(failing, slots=1)
    for _ in range(3):
        with contextlib.suppress(RuntimeError):
            bulkhead({"PATH_INFO": "/console/"}, lambda *a: None)
    assert bulkhead._free.acquire(blocking=False)


def test_the_app_has_one_with_the_setting(app_config: dict[str, Any]) -> None:
    from app import create_app
    from core.config import from_env

    assert from_env({})["WEB_PUBLIC_SLOTS"] == 4
    app_config["WEB_PUBLIC_SLOTS"] = 3
    application = create_app(app_config)
    assert isinstance(application.wsgi_app, Bulkhead)
    assert application.wsgi_app.slots == 3


def test_hsts_over_https_only(app_config: dict[str, Any]) -> None:
    from app import create_app

    app_config["TRUSTED_PROXIES"] = 1
    client = create_app(app_config).test_client()
    secure = client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/healthz", base_url="https://hotline.example.test").headers[
        "Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/console/login").headers
