"""The office-hours queue at scale: dispatch, waitUrl, the wallboard, the screen pop.

Sets up what ``benchmarks/webhooks.py`` does (a private PostgreSQL database, migrated and
seeded; a private redis-server; the hotline and the bare Flask endpoint under the same
gunicorn settings, ``workers/gunicorn_conf.py``), then adds 30 operators and 200 callers
waiting, and measures against baselines taken in the same run:

* **dispatch decision** (``callqueue.dispatch.dispatch`` under the queue lock, rolled back):
  an operator becomes free and the longest-idle operator with the skill is given the caller
  at the head of a 200-caller line — p95 against a Redis round trip (``PING``); goal < 20 ms;
* **waitUrl** (``/ivr/queue/wait``: position and estimate of one of the 200) — p99 against
  the bare endpoint answering the same requests (same paths, bodies, signature headers, same
  concurrency, rounds alternated); goal: within the ratio the hotline's own webhooks are
  held to (``RATIO_GOAL`` of ``benchmarks/webhooks.py``, 2×);
* **the wallboard's figures** (``console.wallboard.snapshot``: who waits, every operator's
  state, today's figures) with 1,000,000 calls in the call log (and as many queue entries,
  spread over the past year) — p95 against ``SELECT count(*)`` of today's entries; goal
  < 50 ms;
* **screen pop**: an operator becomes free, is given the next caller, and the ``pop`` event
  reaches that operator's live stream on the hotline server (another process, through Redis
  pub/sub) — p95, reported against the 2 s the console has.

    .venv/bin/python benchmarks/call_queue.py [--calls 1000000] [--requests 2000]
    .venv/bin/python benchmarks/call_queue.py --smoke      # tiny sizes, a few seconds, no goals

Long on purpose: one standalone script: the four measurements share one private server,
database and data set, set up once.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The webhook benchmark's set-up (database, Redis, both servers) and its load generator.
_loadgen = _module("_loadgen", HERE / "_loadgen.py")
bench_webhooks = _module("bench_webhooks", HERE / "webhooks.py")
Connection, Sample, Summary = _loadgen.Connection, _loadgen.Sample, _loadgen.Summary
run_closed_loop = _loadgen.run_closed_loop

from twilio.request_validator import RequestValidator  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
HOST = "127.0.0.1"
DISPATCH_GOAL_MS = 20.0
WALLBOARD_GOAL_MS = 50.0
POP_GOAL_MS = 2000.0
AREAS = ("factor", "policy", "special", "other")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered \
        else float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- data ---------------------------------------------------------------------------------


def seed_queue(url: str, operators: int, waiting: int, now: datetime) -> list[str]:
    """``operators`` agents (all on calls but one on a break: callers wait) and ``waiting``
    callers in the line, over the four areas; returns the waiting callers' CallSids."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from callqueue.models import Agent, EntryKind, EntryStatus, QueueEntry
    from core.db import make_engine_url

    engine = create_engine(make_engine_url(url))
    sids = []
    with Session(engine) as session:
        for i in range(operators):
            skills = ",".join(AREAS) if i % 3 == 0 else ",".join(AREAS[i % 4:i % 4 + 2])
            session.add(Agent(user_id=100_000 + i, username=f"bench-op{i:02d}",
                              display_name=f"坐席{i:02d}", device=f"+86139{i:08d}",
                              skills=skills or "other", state="on_call" if i else "break",
                              state_since=now - timedelta(minutes=i % 7),
                              idle_since=now - timedelta(minutes=30 - i % 30)))
        for i in range(waiting):
            at = now - timedelta(seconds=5 * (waiting - i))
            sid = f"CA{uuid.uuid4().hex}"
            sids.append(sid)
            session.add(QueueEntry(kind=EntryKind.CALL.value, call_sid=sid,
                                   from_number=f"+86138{i:08d}", area=AREAS[i % 4],
                                   place_at=at, enqueued_at=at,
                                   status=EntryStatus.WAITING.value, attempts=0))
        session.commit()
    engine.dispose()
    return sids


def load_history(url: str, calls: int, now: datetime) -> None:
    """``calls`` calls in the call log and as many queue entries over the past 365 days,
    generated inside PostgreSQL (``generate_series``), then ANALYZEd."""
    from sqlalchemy import create_engine, text

    from core.db import make_engine_url

    engine = create_engine(make_engine_url(url))
    started = time.perf_counter()
    with engine.begin() as conn:
        params = {"n": calls, "now": now}
        conn.execute(text(
            "INSERT INTO calls (call_sid, direction, from_number, to_number, status, flow, "
            "category, reached_operator, started_at, duration) "
            "SELECT 'CH' || lpad(g::text, 32, '0'), 'inbound', '+86138' || lpad((g % 99991)::text, "
            "8, '0'), '+8657488888718', 'completed', 'hotline', "
            "(ARRAY['factor','policy','special','other'])[1 + g % 4], g % 3 <> 0, "
            ":now - make_interval(secs => 86400 + (g::float8 / :n) * 364 * 86400), 60 + g % 300 "
            "FROM generate_series(1, :n) AS g"), params)
        conn.execute(text(
            "INSERT INTO queue_entries (kind, call_sid, from_number, area, place_at, "
            "enqueued_at, status, answered_at, ended_at, wait_seconds, talk_seconds, "
            "wrapup_seconds, attempts) "
            "SELECT 'call', call_sid, from_number, category, started_at, started_at, "
            "CASE WHEN g % 3 <> 0 THEN 'completed' WHEN g % 5 = 0 THEN 'left' "
            "ELSE 'abandoned' END, "
            "CASE WHEN g % 3 <> 0 THEN started_at + make_interval(secs => g % 60) END, "
            "started_at + make_interval(secs => 120 + g % 200), g % 90, "
            "CASE WHEN g % 3 <> 0 THEN 60 + g % 300 END, CASE WHEN g % 3 <> 0 THEN 30 END, 0 "
            "FROM (SELECT row_number() OVER () AS g, call_sid, from_number, category, "
            "started_at FROM calls WHERE call_sid LIKE 'CH%') AS c"))
        # Today: a busy morning's worth of callers so far.
        conn.execute(text(
            "INSERT INTO queue_entries (kind, call_sid, from_number, area, place_at, "
            "enqueued_at, status, answered_at, ended_at, wait_seconds, talk_seconds, "
            "wrapup_seconds, attempts) "
            "SELECT 'call', 'CT' || lpad(g::text, 32, '0'), '+86138' || lpad(g::text, 8, '0'), "
            "(ARRAY['factor','policy','special','other'])[1 + g % 4], "
            ":now - make_interval(secs => g * 60), :now - make_interval(secs => g * 60), "
            "'completed', :now - make_interval(secs => g * 60 - 20), "
            ":now - make_interval(secs => g * 60 - 200), 20, 180, 30, 0 "
            "FROM generate_series(1, 300) AS g"), {"now": now})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE calls"))
        conn.execute(text("ANALYZE queue_entries"))
    engine.dispose()
    print(f"  loaded {calls:,} calls and queue entries in {time.perf_counter() - started:.1f} s")


# -- in-process measurements ---------------------------------------------------------------


def make_app(url: str, redis_url: str | None, tmp: Path, now: datetime) -> Any:
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "REDIS_URL": redis_url,
                       "SECRET_KEY": "bench", "INSTANCE_PATH": str(tmp / "inproc"),
                       "RECORDINGS_DIR": str(tmp / "rec"), "CLOCK": lambda: now,
                       "TWILIO_AUTH_TOKEN": "bench-token", "PUBLIC_BASE_URL": "http://bench"})


def measure_dispatch(app: Any, redis_url: str, samples: int) -> tuple[list[float], list[float]]:
    """One operator becomes free: lock, dispatch (the decision and its offer), rolled back."""
    from redis import Redis
    from sqlalchemy import select, update

    from callqueue.dispatch import dispatch
    from callqueue.locking import lock_queue
    from callqueue.models import Agent
    from callqueue.runtime import Changes
    from core.db import db

    runtime = app.extensions["queue_runtime"]
    redis = Redis.from_url(redis_url)
    pings: list[float] = []
    decisions: list[float] = []
    with app.app_context():
        session = db.session()
        agent_ids = list(session.scalars(select(Agent.id).order_by(Agent.id)))
        session.rollback()
        for i in range(-3, samples):
            started = time.perf_counter()
            redis.ping()
            ping = (time.perf_counter() - started) * 1000
            free = agent_ids[(i % (len(agent_ids) - 1)) + 1]
            started = time.perf_counter()
            lock_queue(session)
            session.execute(update(Agent).where(Agent.id == free).values(
                state="idle", idle_since=runtime.now()))
            offers = dispatch(session, runtime, runtime.now(), Changes())
            session.flush()
            elapsed = (time.perf_counter() - started) * 1000
            session.rollback()
            if not offers:
                raise RuntimeError("the freed operator was not given a caller")
            if i >= 0:
                pings.append(ping)
                decisions.append(elapsed)
    redis.close()
    return decisions, pings


def measure_wallboard(app: Any, samples: int) -> tuple[list[float], list[float]]:
    from sqlalchemy import func, select

    from callqueue.models import QueueEntry
    from console.wallboard import snapshot
    from core.db import db
    from reports.queue_figures import QueueRules

    runtime = app.extensions["queue_runtime"]
    now = runtime.now()
    start_of_day = datetime.combine(now.astimezone(TZ).date(), datetime.min.time(), TZ)
    figures: list[float] = []
    counts: list[float] = []
    with app.app_context():
        session = db.session()
        for i in range(-2, samples):
            started = time.perf_counter()
            session.scalar(select(func.count()).select_from(QueueEntry).where(
                QueueEntry.enqueued_at >= start_of_day))
            count = (time.perf_counter() - started) * 1000
            session.rollback()
            started = time.perf_counter()
            data = snapshot(session, now, TZ, QueueRules())
            elapsed = (time.perf_counter() - started) * 1000
            session.rollback()
            if i >= 0:
                figures.append(elapsed)
                counts.append(count)
        print(f"  wallboard today: offered {data['today']['offered']}, waiting "
              f"{len(data['waiting'])}, operators {len(data['operators'])}")
    return figures, counts


# -- over HTTP: waitUrl against the bare endpoint ------------------------------------------


def wait_requests(base: str, token: str, sids: list[str], n: int) -> list[tuple[str, bytes,
                                                                                  dict[str, str]]]:
    validator = RequestValidator(token)
    made = []
    for i in range(n):
        sid = sids[i % len(sids)]
        params = {"AccountSid": "AC" + "0" * 32, "CallSid": sid, "From": "+8613800000000",
                  "To": "+8657488888718", "CallStatus": "in-progress", "QueuePosition": "1",
                  "QueueTime": "30", "CurrentQueueSize": str(len(sids)), "AvgQueueTime": "0"}
        url = f"{base}/ivr/queue/wait"
        made.append(("/ivr/queue/wait", urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params)}))
    return made


def run_requests(port: int, requests: list[Any], concurrency: int) -> list[Sample]:
    def send(job: object, conn: Connection) -> Sample:
        path, body, headers = job  # type: ignore[misc]
        status, data, ms = conn.post(path, body, headers)
        error = None if status == 200 and b"<Response>" in data else f"HTTP {status}"
        if b"<Gather" not in data and b"<Play" not in data and b"<Say" not in data:
            error = error or "not the waiting TwiML"
        return Sample("wait", status, ms, error)

    result = run_closed_loop(requests, send, host=HOST, port=port, concurrency=concurrency,
                             deadline=time.monotonic() + 600)
    if result.failures:
        raise RuntimeError("; ".join(result.failures[:3]))
    return result.results


# -- the screen pop, through Redis, to a live stream on the server --------------------------


def sign_in(base: str, username: str, password: str) -> Any:
    import requests

    browser = requests.Session()
    page = browser.get(f"{base}/console/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:300]
    done = browser.post(f"{base}/console/login", timeout=10, allow_redirects=False,
                        data={"username": username, "password": password,
                              "csrf_token": token.group(1)})
    if done.status_code != 303:
        raise RuntimeError(f"sign-in failed: {done.status_code}")
    return browser


def measure_pop(app: Any, base: str, samples: int) -> list[float]:
    """The operator ``pop-op`` becomes free (in this process, as the console would make
    them); the time until the ``pop`` event arrives on their live stream on the server."""
    from sqlalchemy import update

    from callqueue import service
    from callqueue.models import Agent
    from callqueue.presence import State
    from console.models import User
    from console.operators import agent_for
    from console.passwords import hash_password
    from core.db import db

    runtime = app.extensions["queue_runtime"]
    password = "Bench-" + secrets.token_hex(8)
    with app.app_context():
        session = db.session()
        user = User(username="pop-op", display_name="弹屏坐席", role="operator",
                    password_hash=hash_password(password), active=True)
        session.add(user)
        session.commit()
        agent = agent_for(session, user, runtime.now())
        agent.device, agent.skills = "+8613999999999", ",".join(AREAS)
        session.commit()
        agent_id = agent.id
    browser = sign_in(base, "pop-op", password)
    received: list[float] = []
    arrived = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        import requests

        while not stop.is_set():
            try:
                with browser.get(f"{base}/console/desk/stream", stream=True,
                                 timeout=30) as stream:
                    for raw in stream.iter_lines(decode_unicode=True):
                        if stop.is_set():
                            return
                        if raw == "event: pop":
                            received.append(time.perf_counter())
                            arrived.set()
            except requests.RequestException:  # the stream ended (or the server stopped)
                continue

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(1.0)  # the stream is open and subscribed
    latencies: list[float] = []
    with app.app_context():
        session = db.session()
        for i in range(-2, samples):
            session.execute(update(Agent).where(Agent.id == agent_id).values(
                state="break", offer_id=None))
            session.commit()
            arrived.clear()
            started = time.perf_counter()
            changes = service.set_presence(session, runtime, agent_id, State.IDLE,
                                           now=runtime.now())
            runtime.commit(session, changes)
            if not arrived.wait(10):
                raise RuntimeError("no pop event within 10 s")
            if i >= 0:
                latencies.append((received[-1] - started) * 1000)
            # Put the caller back: the next round offers the head of the line again.
            from callqueue.models import Offer, QueueEntry

            for offer in session.query(Offer).filter(Offer.agent_id == agent_id,
                                                     Offer.status == "placing"):
                offer.status = "cancelled"
                entry = session.get(QueueEntry, offer.entry_id)
                if entry is not None:
                    entry.status = "waiting"
            session.commit()
    stop.set()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000,
                        help="calls (and queue entries) in the history")
    parser.add_argument("--operators", type=int, default=30)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000, help="waitUrl requests a round")
    parser.add_argument("--webhook-calls", type=int, default=300,
                        help="calls of webhooks.py's mix a round (the baseline ratio)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no goals")
    args = parser.parse_args()
    if args.smoke:
        args.calls, args.operators, args.waiting = 2000, 6, 20
        args.requests, args.concurrency, args.rounds, args.samples = 20, 2, 1, 2
        args.webhook_calls = 4
    sys.setswitchinterval(0.0005)
    webhook_args = argparse.Namespace(
        database_url=args.database_url, workers=1 if args.smoke else 2,
        threads=4 if args.smoke else 8, worker_class="gthread", office="open", redis=True,
        gunicorn_config=ROOT / "workers" / "gunicorn_conf.py",
        think_ms=0.0 if args.smoke else 200.0, concurrency=args.concurrency, smoke=args.smoke)
    # The 200 keep waiting for the whole run (the hotline server reads the real clock): no
    # "longest wait" leave in the middle of a round.
    os.environ["QUEUE_MAX_WAIT_SECONDS"] = str(7 * 86400)
    started = datetime.now(UTC).replace(microsecond=0)
    now = started
    local = now.astimezone(TZ)
    if not 9 <= local.hour < 17:  # the data's "today" in the day, whatever the hour now
        now = datetime.combine(local.date(), datetime.min.time(), TZ).replace(
            hour=11).astimezone(UTC)
    print(f"queue benchmark: {args.operators} operators, {args.waiting} waiting, "
          f"{args.calls:,} calls in the history")
    with bench_webhooks.Bench(webhook_args) as bench:
        assert bench.hotline is not None and bench.bare is not None
        # The ratio the hotline's own webhooks show against the bare endpoint, this run:
        # webhooks.py's call mix (nobody on duty yet: the office-hours path offers voicemail).
        deadline = time.monotonic() + 600
        plans = bench_webhooks.build_plans(args.webhook_calls, 8718)
        bench_webhooks.run_hotline(bench, bench_webhooks.build_plans(
            max(2, args.webhook_calls // 5), 8719), deadline)  # warm-up
        mix_ratios = []
        for _ in range(args.rounds):
            hot_round = bench_webhooks.run_hotline(bench, plans, deadline)
            bare_round = bench_webhooks.run_bare(bench, [c.trace for c in hot_round.calls],
                                                 deadline)
            mix_ratios.append(hot_round.summary.p99 / max(bare_round.summary.p99, 1e-6))
            print(f"  webhook call mix: hotline p99 {hot_round.summary.p99:6.2f} ms, bare p99 "
                  f"{bare_round.summary.p99:6.2f} ms ({mix_ratios[-1]:.2f}×)")
        mix_ratio = statistics.median(mix_ratios)
        sids = seed_queue(bench.db_url, args.operators, args.waiting, started)
        load_history(bench.db_url, args.calls, now)
        app = make_app(bench.db_url, bench.redis_url, bench.tmp, now)

        decisions, pings = measure_dispatch(app, bench.redis_url or "", args.samples)
        print(f"  dispatch decision ({args.waiting}-caller line, {args.operators} operators)"
              f"   p50 "
              f"{pct(decisions, 50):6.2f} ms  p95 {pct(decisions, 95):6.2f} ms   "
              f"Redis PING p95 {pct(pings, 95):5.2f} ms  "
              f"({pct(decisions, 95) / max(pct(pings, 95), 1e-6):.1f}×)")
        dispatch_ok = pct(decisions, 95) < DISPATCH_GOAL_MS

        figures, counts = measure_wallboard(app, args.samples)
        print(f"  wallboard figures ({args.calls:,} calls)                       p50 "
              f"{pct(figures, 50):6.2f} ms  p95 {pct(figures, 95):6.2f} ms   "
              f"count(today) p95 {pct(counts, 95):5.2f} ms  "
              f"({pct(figures, 95) / max(pct(counts, 95), 1e-6):.1f}×)")
        wallboard_ok = pct(figures, 95) < WALLBOARD_GOAL_MS

        requests = wait_requests(bench.hotline.base_url, bench.token, sids, args.requests)
        bare_requests = wait_requests(bench.bare.base_url, bench.token, sids, args.requests)
        run_requests(bench.hotline.port, requests[: max(20, len(requests) // 10)],
                     args.concurrency)  # warm-up
        run_requests(bench.bare.port, bare_requests[: max(20, len(requests) // 10)],
                     args.concurrency)
        hot_p99: list[float] = []
        bare_p99: list[float] = []
        for i in range(args.rounds):
            hot = Summary.of(run_requests(bench.hotline.port, requests, args.concurrency), 1.0)
            bare = Summary.of(run_requests(bench.bare.port, bare_requests, args.concurrency),
                              1.0)
            hot_p99.append(hot.p99)
            bare_p99.append(bare.p99)
            errors = hot.errors + bare.errors
            print(f"  round {i + 1}: waitUrl p50 {hot.p50:6.2f} p99 {hot.p99:6.2f} ms, "
                  f"bare p50 {bare.p50:6.2f} p99 {bare.p99:6.2f} ms ({errors} errors)")
            if errors:
                raise RuntimeError("waitUrl requests failed")
        ratio = statistics.median(hot_p99) / max(statistics.median(bare_p99), 1e-6)
        wait_ok = ratio <= mix_ratio
        print(f"  waitUrl p99 {statistics.median(hot_p99):.2f} ms vs bare "
              f"{statistics.median(bare_p99):.2f} ms: {ratio:.2f}× (median of rounds); "
              f"the hotline webhooks' own ratio {mix_ratio:.2f}×")

        latencies = measure_pop(app, bench.hotline.base_url,
                                1 if args.smoke else max(5, args.samples // 10))
        print(f"  screen pop: free operator → pop event on the server's stream   p50 "
              f"{pct(latencies, 50):6.1f} ms  p95 {pct(latencies, 95):6.1f} ms")
        pop_ok = pct(latencies, 95) < POP_GOAL_MS

        print("goals:")
        print(f"  dispatch decision p95 < {DISPATCH_GOAL_MS:.0f} ms: {verdict(dispatch_ok)}")
        print(f"  waitUrl p99 / bare ≤ the hotline webhooks' p99 / bare ({ratio:.2f}× ≤ "
              f"{mix_ratio:.2f}×): {verdict(wait_ok)}")
        print(f"  wallboard figures p95 < {WALLBOARD_GOAL_MS:.0f} ms with {args.calls:,} calls: "
              f"{verdict(wallboard_ok)}")
        print(f"  screen pop p95 < {POP_GOAL_MS:.0f} ms: {verdict(pop_ok)}")
        print(json.dumps({"dispatch_p95_ms": round(pct(decisions, 95), 2),
                          "redis_ping_p95_ms": round(pct(pings, 95), 3),
                          "wallboard_p95_ms": round(pct(figures, 95), 2),
                          "waitUrl_p99_ms": round(statistics.median(hot_p99), 2),
                          "bare_p99_ms": round(statistics.median(bare_p99), 2),
                          "waitUrl_ratio": round(ratio, 2),
                          "webhooks_ratio": round(mix_ratio, 2),
                          "pop_p95_ms": round(pct(latencies, 95), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
