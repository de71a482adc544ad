"""``make run`` stops everything on SIGHUP (a closed terminal), and a ``make run`` killed
outright is cleaned up by the next one instead of blocking it (workers.instance_state)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.workers.stack_support import copy_instance, stack_environment
from workers import instance_state

# The stack runs its own SQLite, Redis and clock: the same in both CI runs (conftest).
pytestmark = pytest.mark.make_run

PROJECT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"\[make run\] (\S+) started \(pid (\d+)\)")
CHILDREN = ("redis", "web", "worker", "transcriber", "cron")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Run:
    """One ``python -m workers.stack`` on an instance directory of the test's."""

    def __init__(self, tmp: Path, name: str, *args: str, seeded: Path | None = None) -> None:
        self.instance = tmp / "instance"
        if seeded is not None:  # migrated and seeded already (conftest)
            copy_instance(seeded, self.instance)
        self.log = tmp / f"{name}.log"
        env = stack_environment(self.instance)
        env.update(PORT=str(free_port()),
                   VOSK_MODEL_PATH=str(tmp / "no-model"), TWILIO_RECONCILE="0")
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "workers.stack", *args],
                                            cwd=PROJECT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in STARTED.findall(self.text())}

    def wait_for(self, condition, what: str, timeout: float = 240.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"{what}; log:\n{self.text()[-4000:]}")

    def started(self) -> None:
        self.wait_for(lambda: "hotline running" in self.text()
                      and all(name in self.pids() for name in CHILDREN), "make run did not start")
        self.wait_for(lambda: set(CHILDREN) <= set(
            (instance_state.read(self.instance) or instance_state.InstanceState(0)).children),
            "the children were not recorded")

    def kill_group(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


# Each test boots `make run` (twice for the second): slow on a loaded machine.
@pytest.mark.timeout(900)
def test_a_running_make_run_is_left_alone_and_sighup_stops_everything(
        tmp_path: Path, seeded_instance: Path) -> None:
    run = Run(tmp_path, "hup", seeded=seeded_instance)
    try:
        run.started()
        children = run.pids()
        second = Run(tmp_path, "second")
        assert second.process.wait(timeout=60) == 1
        assert f"another `make run` (pid {run.process.pid}) is using" in second.text()
        assert all(instance_state.alive(pid) for pid in children.values())
        os.kill(run.process.pid, signal.SIGHUP)  # the terminal was closed
        assert run.process.wait(timeout=60) == 0
        assert "stopped." in run.text()
        for name, pid in children.items():
            assert not instance_state.alive(pid), f"{name} (pid {pid}) outlived SIGHUP"
        assert instance_state.read(run.instance) is None
    finally:
        run.kill_group()


@pytest.mark.timeout(900)
def test_the_next_make_run_cleans_up_after_a_killed_one(tmp_path: Path,
                                                        seeded_instance: Path) -> None:
    crashed = Run(tmp_path, "crashed", seeded=seeded_instance)
    try:
        crashed.started()
        orphans = crashed.pids()
        crashed.process.send_signal(signal.SIGKILL)  # the supervisor only: children remain
        crashed.process.wait()
        assert all(instance_state.alive(pid) for pid in orphans.values())
        again = Run(tmp_path, "again")
        try:
            again.started()
            for name, pid in orphans.items():
                assert f"stopping {name} (pid {pid}) left by a `make run` that is gone" in \
                    again.text()
                assert not instance_state.alive(pid)
            os.kill(again.process.pid, signal.SIGTERM)
            assert again.process.wait(timeout=60) == 0
        finally:
            again.kill_group()
    finally:
        for pid in crashed.pids().values():
            if instance_state.alive(pid):
                os.killpg(pid, signal.SIGKILL)
