"""Hotline nodes as separate processes, each with its own instance and working directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    name: str
    root: Path  # instance/, work/ (the working directory) and tmp/ live here, nothing else
    log: Path
    process: subprocess.Popen[bytes]
    url: str | None = None
    killed: bool = False

    def kill(self) -> None:
        """The machine dies: the whole process group at once (a worker and its work horse)."""
        self.killed = True
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def terminate(self) -> None:
        """SIGTERM (warm shutdown: gunicorn and RQ finish what they are doing)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def wipe(self) -> None:
        """Delete every local directory of the node (its disk is gone)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def tail(self, chars: int = 3000) -> str:
        try:
            return f"--- {self.name} ---\n" + self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return f"--- {self.name}: no log ---"


def _environment(root: Path, common: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HOTLINE_", "RECORDINGS_", "TWILIO_", "VOSK_"))}
    env.update(common)
    env.update({
        "HOTLINE_INSTANCE_PATH": str(root / "instance"),
        "RECORDINGS_DIR": str(root / "instance" / "recordings"),
        "TMPDIR": str(root / "tmp"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    })
    env.update(extra)
    return env


def _spawn(name: str, base: Path, args: list[str], common: dict[str, str],
           extra: dict[str, str]) -> Node:
    root = base / name
    for sub in ("instance", "work", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    log = base / f"{name}.log"  # outside the node, so a wiped node still has its log
    with open(log, "ab") as out:
        process = subprocess.Popen(args, cwd=root / "work", env=_environment(root, common, extra),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Node(name, root, log, process)


def start_web(name: str, base: Path, common: dict[str, str], **extra: str) -> Node:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    node = _spawn(name, base, [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                               "--config", "python:workers.gunicorn_conf", "--workers", "1",
                               "app:create_app()"],
                  common, {"PUBLIC_BASE_URL": url, "PORT": str(port), **extra})
    node.url = url
    return node


def start_worker(name: str, base: Path, common: dict[str, str], queues: str, *,
                 module: str = "workers.worker", **extra: str) -> Node:
    """``python -m workers.worker`` (or a test's wrapper ``module`` around it)."""
    return _spawn(name, base, [sys.executable, "-m", module, "--with-scheduler",
                               "--queues", queues, "--name", name], common, extra)


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               nodes: list[Node] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for node in nodes:
            if not node.killed and node.process.poll() is not None:
                raise AssertionError(f"{node.name} exited while waiting for {what}\n"
                                     + node.tail())
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n"
                         + "\n".join(node.tail() for node in nodes))


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
