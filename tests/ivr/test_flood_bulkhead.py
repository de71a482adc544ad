"""Webhooks keep answering while the public knowledge-base API is flooded and Redis is stalled.

A real gunicorn (the settings of ``make run``) on the test database and a private Redis that
is stopped with SIGSTOP: 24 clients hammer ``/api/v1/kb/search`` while 12 of Twilio's
webhooks arrive, four at a time. Each webhook is sent with Twilio's own 15-second timeout, so
"answered" means what it means to Twilio; the measured latencies are printed. Before the
bulkhead and the bounded rate limit, KB requests held every thread for Redis's 10-second
timeout and webhooks timed out.
"""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from lxml import etree
from twilio.request_validator import RequestValidator

from tests.deploy.nodes import answers, start_web, wait_until
from workers.embedded_redis import start

TOKEN = "flood-test-token-0123456789abcdef"
TWILIO_TIMEOUT = 15.0
FLOOD_CLIENTS = 24
WEBHOOKS = 12
SENDERS = 4


def test_webhooks_answer_while_the_kb_api_is_flooded_and_redis_is_paused(
        tmp_path: Path, database_url: str) -> None:
    redis, redis_url = start(tmp_path / "redis")
    node = start_web("web", tmp_path, {
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "KB_API_RATE_LIMIT": "1000000",
        "TWILIO_RECONCILE": "0"})
    assert node.url is not None and redis.pid is not None
    base = node.url
    stop = threading.Event()
    flood: Counter[str] = Counter()
    webhook_times: list[float] = []
    failures: list[str] = []
    validator = RequestValidator(TOKEN)

    def hammer() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                try:
                    status = http.get(f"{base}/api/v1/kb/search", params={"q": "融资贷款"},
                                      timeout=30).status_code
                    flood[str(status)] += 1
                except requests.RequestException as exc:
                    flood[type(exc).__name__] += 1

    def webhook() -> None:
        params = {"CallSid": "CA" + uuid.uuid4().hex, "From": "+8613800138000",
                  "To": "+8657488888718", "CallStatus": "ringing", "Direction": "inbound",
                  "AccountSid": "AC" + "1" * 32}
        url = f"{base}/ivr/voice"
        started = time.monotonic()
        try:
            response = requests.post(url, data=params, timeout=TWILIO_TIMEOUT, headers={
                "X-Twilio-Signature": validator.compute_signature(url, params)})
        except requests.RequestException as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            return
        webhook_times.append(time.monotonic() - started)
        if response.status_code != 200:
            failures.append(f"HTTP {response.status_code}")
            return
        doc = etree.fromstring(response.content)
        if not doc.xpath("/Response/Say") or "SORRY" in response.text:
            failures.append(response.text[:200])

    def send(count: int) -> None:
        for _ in range(count):
            webhook()

    try:
        wait_until(lambda: answers(f"{base}/healthz"), 60, "the web server", [node])
        os.kill(redis.pid, signal.SIGSTOP)
        flooders = [threading.Thread(target=hammer, daemon=True) for _ in range(FLOOD_CLIENTS)]
        for thread in flooders:
            thread.start()
        wait_until(lambda: sum(flood.values()) >= FLOOD_CLIENTS, 60, "the flood to start",
                   [node])
        senders = [threading.Thread(target=send, args=(WEBHOOKS // SENDERS,))
                   for _ in range(SENDERS)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(WEBHOOKS * TWILIO_TIMEOUT)
        stop.set()
        for thread in flooders:
            thread.join(60)
    finally:
        stop.set()
        os.kill(redis.pid, signal.SIGCONT)
        node.kill()  # nothing to finish: what it answered is measured
        redis.shutdown()
    times = sorted(webhook_times)
    print(f"\nwebhooks during the flood: {len(times)} answered, p50 "
          f"{statistics.median(times) if times else float('nan'):.3f} s, max "
          f"{max(times) if times else float('nan'):.3f} s; failures {len(failures)}; "
          f"KB API answers {dict(flood)}")
    assert failures == []
    assert len(times) == WEBHOOKS
    assert "500" not in flood
    assert flood["503"] > 0  # the flood did meet the bulkhead
