"""``make run``'s supervisor: a killed child comes back, the web keeps answering, nothing lost.

Boots ``python -m workers.stack`` on the embedded default (SQLite + the embedded Redis) in
a temporary instance directory on a free port, places calls with the terminal phone over
HTTP while Redis, the workers and cron are killed in turn, then checks every call and
voicemail reached the database.

The stack's processes run with the machine's clock set to a working day's night (libfaketime,
``tests/faketime.py``): what a caller hears depends on office hours, and the test must not
depend on the hour at which it runs. The product has no clock switch for this.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests

from ivr.phone import HttpTransport, TerminalPhone
from tests import faketime
from tests.conftest import write_tone_wav
from tests.workers.stack_support import NIGHT, copy_instance, stack_environment
from workers import stack

# The stack runs its own SQLite, Redis and clock: the same in both CI runs (conftest).
pytestmark = pytest.mark.make_run

PROJECT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"\[make run\] (\S+) started \(pid (\d+)\)")
AFTER_HOURS = "现在是非工作时间"  # the flow's after_hours prompt


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Stack:
    def __init__(self, tmp: Path, seeded: Path, at: datetime | None = None,
                 **extra_env: str) -> None:
        # Migrated and seeded already (conftest): make run's set-up finds nothing to do.
        self.instance = copy_instance(seeded, tmp / "instance")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "run.log"
        env = stack_environment(self.instance)
        env.update(PORT=str(self.port),
                   LIVE_PORT=str(free_port()),
                   VOSK_MODEL_PATH=str(tmp / "no-model"), TWILIO_RECONCILE="0")
        env.update(extra_env)
        if at is not None:  # the machine's clock for every process of the stack
            env = faketime.environment(at, env)
        self.out = self.log.open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "workers.stack"], cwd=PROJECT,
                                        env=env, stdout=self.out, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self, name: str) -> list[int]:
        return [int(pid) for child, pid in STARTED.findall(self.text()) if child == name]

    def wait_for(self, condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{what}; log:\n{self.text()[-4000:]}")

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.base}/healthz", timeout=5).ok
        except requests.RequestException:
            return False

    def phone(self) -> TerminalPhone:
        token = (self.instance / "local_twilio_auth_token").read_text().strip()
        return TerminalPhone(transport=HttpTransport(self.base), base_url=self.base,
                             auth_token=token, account_sid="AC" + "0" * 32,
                             echo=lambda _line: None)

    def query(self, sql: str) -> int:
        with sqlite3.connect(self.instance / "hotline.db", timeout=10) as conn:
            return int(conn.execute(sql).fetchone()[0])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.out.close()
        return self.process.returncode


@pytest.fixture
def running(tmp_path: Path, seeded_instance: Path) -> Iterator[Stack]:
    if faketime.library() is None:
        pytest.skip("libfaketime is not installed (apt-get install faketime)")
    # Restarts after a tenth of a second, doubled at each failure in a row (the back-off
    # itself: test_the_supervisor_backs_off_and_resets): the test waits for each restart.
    booted = Stack(tmp_path, seeded_instance, at=NIGHT, MAKE_RUN_RESTART_SECONDS="0.1")
    try:
        booted.wait_for(lambda: "hotline running" in booted.text(), "make run did not start",
                        timeout=180)
        booted.wait_for(lambda: all(booted.pids(n) for n in ("web", "worker", "cron")),
                        "children did not start")
        booted.wait_for(booted.answers, "the web server does not answer")
        yield booted
    finally:
        code = booted.stop()
        for name in ("redis", "web", "worker", "transcriber", "cron", "live"):
            for pid in booted.pids(name):
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)  # nothing it started outlives it
        assert code == 0, booted.text()[-3000:]


class Prober(threading.Thread):
    """Asks the web server for the greeting every 100 ms; counts what went wrong."""

    def __init__(self, phone: TerminalPhone, base: str) -> None:
        super().__init__(daemon=True)
        self.phone, self.base = phone, base
        self.done = threading.Event()
        self.answered = 0
        self.failures: list[str] = []

    def run(self) -> None:
        session = requests.Session()
        n = 0
        while not self.done.is_set():
            n += 1
            params = {"CallSid": f"CAprobe{n:06d}", "From": "+8613900000000",
                      "To": "+8657488888718", "CallStatus": "ringing"}
            url = f"{self.base}/ivr/voice"
            try:
                reply = session.post(url, data=params, timeout=15,
                                     headers={"X-Twilio-Signature": self.phone.sign(url, params)})
                if reply.status_code != 200 or "<Gather" not in reply.text:
                    self.failures.append(f"{reply.status_code}: {reply.text[:200]}")
                else:
                    self.answered += 1
            except requests.RequestException as exc:
                self.failures.append(repr(exc))
            time.sleep(0.1)


def test_killed_children_come_back_and_no_call_is_lost(running: Stack, tmp_path: Path):
    phone = running.phone()
    wav = write_tone_wav(tmp_path / "vm.wav", seconds=1.0)
    prober = Prober(phone, running.base)
    prober.start()
    sids: list[str] = []
    try:
        for name in ("redis", "worker", "transcriber", "cron", "live"):
            # A child may itself be restarting after the previous kill (a worker loses its
            # Redis): wait until its newest process is the one running.
            running.wait_for(lambda name=name: alive(running.pids(name)[-1]),
                             f"{name} is not running")
            old = running.pids(name)[-1]
            os.kill(old, signal.SIGKILL)
            # Calls while the child is down (or restarting): answered, logged, filed.
            outcome = phone.call(keys=["4"], voicemail=wav)
            assert all(status in (200, 204) for _url, status in outcome.requests), outcome
            assert any(AFTER_HOURS in line for line in outcome.heard), outcome.heard
            assert not any("抱歉" in line for line in outcome.heard), outcome.heard
            assert outcome.recording_sid, outcome.heard
            sids.append(outcome.call_sid)
            running.wait_for(lambda name=name, old=old: running.pids(name)[-1] != old,
                             f"{name} was not restarted")
            assert f"{name} (pid {old}) exited" in running.text()
    finally:
        prober.done.set()
        prober.join(20)
    assert prober.failures == [] and prober.answered > 0
    # The web server itself is restarted too (no answers while it is down, of course).
    old = running.pids("web")[-1]
    os.kill(old, signal.SIGKILL)
    running.wait_for(lambda: running.pids("web")[-1] != old, "web was not restarted")
    running.wait_for(running.answers, "the restarted web server does not answer")
    listed = ",".join(f"'{sid}'" for sid in sids)
    running.wait_for(
        lambda: running.query(f"SELECT count(*) FROM calls WHERE call_sid IN ({listed}) "
                              "AND status = 'completed'") == len(sids),
        "a call was lost", timeout=90)
    running.wait_for(
        lambda: running.query("SELECT count(*) FROM voicemail_reservations r JOIN cases c "
                              "ON c.id = r.case_id") == len(sids),
        "a voicemail was not filed", timeout=90)


def test_the_supervisor_backs_off_and_resets():
    child = stack.Child("x", ["true"], {})
    supervisor = stack.Supervisor([child])
    child.process = subprocess.Popen(["true"])
    child.started_at = time.monotonic()
    child.process.wait()
    supervisor.check()
    first = child.restart_at
    assert first is not None and child.failures == 1
    child.failures = 3
    child.restart_at = None
    supervisor.check()
    assert child.restart_at is not None and child.failures == 4
    assert child.restart_at - time.monotonic() == pytest.approx(8, abs=1)


def test_light_work_has_a_worker_of_its_own():
    children = {c.name: c.args for c in stack.build_children({}, "5000", None)}
    light = children["worker"][children["worker"].index("--queues") + 1].split(",")
    heavy = children["transcriber"][children["transcriber"].index("--queues") + 1].split(",")
    assert "default" in light and "calls" in light and "transcription" not in light
    # Report figures take seconds of database work: with transcription, after it.
    assert "reports" not in light and heavy == ["transcription", "reports"]
    # Live decoding in its own process: never in a worker, never in the web server.
    assert children["live"][1:] == ["-m", "workers.live"]


def boot(stack_: Stack) -> None:
    stack_.wait_for(lambda: "hotline running" in stack_.text(), "make run did not start")
    stack_.wait_for(stack_.answers, "the web server does not answer")


def model_line(text: str) -> str:
    return next(line for line in text.splitlines() if "语音模型  " in line)


def test_make_run_downloads_the_model_in_the_background(tmp_path: Path,
                                                        seeded_instance: Path) -> None:
    from tests.transcription.support import ModelServer, ko_model_dir, model_zip

    payload = model_zip(ko_model_dir(), tmp_path / "model.zip")
    server = ModelServer(payload)
    server.pause_at = len(payload) // 3
    target = tmp_path / "instance" / "models" / "vosk-model-small-cn-0.22"
    booted = Stack(tmp_path, seeded_instance, VOSK_MODEL_PATH=str(target),
                   VOSK_MODEL_URL=server.url,
                   VOSK_MODEL_SHA256=hashlib.sha256(payload).hexdigest())
    try:
        boot(booted)
        assert server.paused.wait(60)
        # The download hangs at a third, and the hotline answers meanwhile.
        line = model_line(booted.text())
        assert re.search(r"语音模型  下载中 \d+%", line), line
        assert booted.answers()
        status = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "model", "status", "--json"],
            cwd=PROJECT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "HOTLINE_INSTANCE_PATH": str(booted.instance),
                 "VOSK_MODEL_PATH": str(target)})
        state = json.loads(status.stdout)
        assert state["state"] == "downloading" and 30 <= state["percent"] <= 34, (
            state, server.ranges, booted.text())
        server.resume.set()
        booted.wait_for(lambda: "speech model: 已安装" in booted.text(),
                        "the model was not installed", timeout=120)
    finally:
        server.resume.set()
        code = booted.stop()
        server.stop()
    assert code == 0
    assert server.ranges == [None]  # one download, by one installer


def test_make_run_without_network_says_so_and_runs_on(tmp_path: Path,
                                                       seeded_instance: Path) -> None:
    closed = free_port()  # nothing listens: as quick a failure as a missing DNS name
    target = tmp_path / "instance" / "models" / "vosk-model-small-cn-0.22"
    booted = Stack(tmp_path, seeded_instance, VOSK_MODEL_PATH=str(target),
                   VOSK_MODEL_URL=f"http://127.0.0.1:{closed}/vosk-model-small-cn-0.22.zip",
                   VOSK_MODEL_SHA256="ab" * 32)
    try:
        boot(booted)
        booted.wait_for(lambda: "[model] 语音模型 / speech model: 不可用" in booted.text(),
                        "the installer did not give up")
        for text in (model_line(booted.text()), booted.text()):
            assert "不可用：无法连接 127.0.0.1（服务器拒绝连接）" in text
            assert "离线安装：flask --app app model install --zip FILE" in text
        assert "model_setup.py" not in booted.text() and "model_store.py" not in booted.text()
        assert booted.answers()
    finally:
        code = booted.stop()
    assert code == 0
