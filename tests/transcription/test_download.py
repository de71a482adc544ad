"""Recording downloads against a real local HTTP server with scripted answers."""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from transcription.download import (
    DisallowedHost,
    DisallowedURL,
    DownloadedFile,
    DownloadFailed,
    download_recording,
    twilio_media_url,
)

AUDIO = b"RIFF\xc8\x07\x00\x00WAVE" + b"\x00" * 2000  # a WAV header: the content decides
WAV = (("Content-Type", "audio/x-wav"),)
LOCAL = ["127.0.0.1"]


class RecordingSession(requests.Session):
    """A real session that remembers every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.sent.append(request)
        return super().send(request, **kwargs)


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def session() -> Iterator[RecordingSession]:
    with RecordingSession() as s:
        yield s


def fetch(
    url: str,
    dest: Path,
    *,
    allowed_hosts: list[str] = LOCAL,
    auth: tuple[str, str] | None = None,
    **options: Any,
) -> DownloadedFile:
    """download_recording with this module's defaults (loopback only, no auth)."""
    return download_recording(url, allowed_hosts=allowed_hosts, auth=auth, dest_dir=dest, **options)


def test_disallowed_host_is_refused_without_a_request(
    tmp_path: Path, session: RecordingSession
) -> None:
    with pytest.raises(DisallowedHost):
        fetch("https://evil.example.com/rec.wav", tmp_path, session=session)
    assert session.sent == []


def test_host_match_is_exact_not_a_suffix(tmp_path: Path, session: RecordingSession) -> None:
    with pytest.raises(DisallowedHost):
        download_recording(
            "https://api.twilio.com.evil.example/rec.wav",
            allowed_hosts=["api.twilio.com"],
            auth=None,
            dest_dir=tmp_path,
            session=session,
        )
    assert session.sent == []


def test_plain_http_to_a_public_host_is_refused(tmp_path: Path, session: RecordingSession) -> None:
    with pytest.raises(DisallowedURL, match="https"):
        download_recording(
            "http://api.twilio.com/rec.wav",
            allowed_hosts=["api.twilio.com"],
            auth=None,
            dest_dir=tmp_path,
            session=session,
        )
    assert session.sent == []


def test_credentials_in_the_url_are_refused(tmp_path: Path, session: RecordingSession) -> None:
    with pytest.raises(DisallowedURL, match="credentials"):
        fetch("http://user:pw@127.0.0.1/rec.wav", tmp_path, session=session)
    assert session.sent == []


def test_download_saves_the_body_under_its_sha256(http_server, tmp_path: Path) -> None:
    url = http_server.script("/rec.wav", http_server.reply(body=AUDIO, headers=WAV))
    result = fetch(url, tmp_path)
    digest = hashlib.sha256(AUDIO).hexdigest()
    assert result.sha256 == digest
    assert result.size == len(AUDIO)
    assert result.content_type == "audio/x-wav"
    assert result.path == tmp_path / f"{digest[:16]}.wav"
    assert result.path.read_bytes() == AUDIO
    assert [p.name for p in tmp_path.iterdir()] == [result.path.name]


def test_given_name_is_used(http_server, tmp_path: Path) -> None:
    url = http_server.script("/rec", http_server.reply(body=AUDIO, headers=WAV))
    assert fetch(url, tmp_path, name="RE123").path == tmp_path / "RE123.wav"


def test_credentials_are_sent_as_basic_auth(http_server, tmp_path: Path) -> None:
    url = http_server.script("/rec.wav", http_server.reply(body=AUDIO, headers=WAV))
    fetch(url, tmp_path, auth=("AC123", "secret"))
    expected = "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert http_server.seen[0].headers["Authorization"] == expected


def test_404_is_retried_until_the_recording_is_published(
    http_server, tmp_path: Path, sleep: SleepRecorder
) -> None:
    url = http_server.script(
        "/rec.wav",
        http_server.reply(status=404),
        http_server.reply(body=AUDIO, headers=WAV),
    )
    result = fetch(url, tmp_path, sleep=sleep)
    assert result.path.read_bytes() == AUDIO
    assert sleep.delays == [1.0]
    assert len(http_server.seen) == 2


def test_server_error_is_retried(http_server, tmp_path: Path, sleep: SleepRecorder) -> None:
    url = http_server.script(
        "/rec.wav",
        http_server.reply(status=500),
        http_server.reply(body=AUDIO, headers=WAV),
    )
    assert fetch(url, tmp_path, sleep=sleep).size == len(AUDIO)
    assert len(http_server.seen) == 2


def test_retries_back_off_exponentially_then_give_up_retryable(
    http_server, tmp_path: Path, sleep: SleepRecorder
) -> None:
    url = http_server.script("/rec.wav", http_server.reply(status=503))
    with pytest.raises(DownloadFailed) as failure:
        fetch(url, tmp_path, sleep=sleep, retries=3, backoff=0.5)
    assert failure.value.retryable
    assert sleep.delays == [0.5, 1.0, 2.0]
    assert len(http_server.seen) == 4


def test_retry_after_is_honoured(http_server, tmp_path: Path, sleep: SleepRecorder) -> None:
    url = http_server.script(
        "/rec.wav",
        http_server.reply(status=429, headers=(("Retry-After", "7"),)),
        http_server.reply(body=AUDIO, headers=WAV),
    )
    fetch(url, tmp_path, sleep=sleep)
    assert sleep.delays == [7.0]


def test_other_client_errors_are_not_retried(
    http_server, tmp_path: Path, sleep: SleepRecorder
) -> None:
    url = http_server.script("/rec.wav", http_server.reply(status=403))
    with pytest.raises(DownloadFailed, match="403") as failure:
        fetch(url, tmp_path, sleep=sleep)
    assert not failure.value.retryable
    assert sleep.delays == []


def test_connection_errors_are_retried(tmp_path: Path, sleep: SleepRecorder) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadFailed) as failure:
        fetch(f"http://127.0.0.1:{port}/rec.wav", tmp_path, sleep=sleep, retries=2)
    assert failure.value.retryable
    assert len(sleep.delays) == 2


def test_oversize_content_length_is_refused(http_server, tmp_path: Path) -> None:
    url = http_server.script("/rec.wav", http_server.reply(body=AUDIO, headers=WAV))
    with pytest.raises(DownloadFailed, match="limit") as failure:
        fetch(url, tmp_path, max_bytes=1000)
    assert not failure.value.retryable
    assert list(tmp_path.iterdir()) == []


def test_oversize_body_without_length_is_cut_off(http_server, tmp_path: Path) -> None:
    url = http_server.script(
        "/rec.wav",
        http_server.reply(body=b"x" * 300_000, headers=WAV, content_length=False),
    )
    with pytest.raises(DownloadFailed, match="limit") as failure:
        fetch(url, tmp_path, max_bytes=100_000)
    assert not failure.value.retryable
    assert list(tmp_path.iterdir()) == []


def test_non_audio_content_type_is_refused(http_server, tmp_path: Path) -> None:
    html = (("Content-Type", "text/html; charset=utf-8"),)
    url = http_server.script("/rec.wav", http_server.reply(body=b"<html>", headers=html))
    with pytest.raises(DownloadFailed, match="content type") as failure:
        fetch(url, tmp_path)
    assert not failure.value.retryable
    assert list(tmp_path.iterdir()) == []


def test_octet_stream_is_named_from_its_content_not_the_url(http_server,
                                                            tmp_path: Path) -> None:
    binary = (("Content-Type", "application/octet-stream"),)
    url = http_server.script("/rec.js", http_server.reply(body=AUDIO, headers=binary))
    assert fetch(url, tmp_path).path.suffix == ".wav"
    mp3 = b"ID3\x04\x00" + b"\x00" * 500
    url = http_server.script("/rec.wav", http_server.reply(body=mp3, headers=binary))
    assert fetch(url, tmp_path, name="RE2").path.name == "RE2.mp3"


@pytest.mark.parametrize("path", ["/rec.html", "/rec.js", "/rec.wav", "/rec"])
def test_non_audio_bytes_are_refused_whatever_the_url_and_type(http_server, tmp_path: Path,
                                                               path: str) -> None:
    # Regression (stored script): octet-stream from a URL ending in .html was kept as .html
    # and later served inline from the console's origin.
    binary = (("Content-Type", "application/octet-stream"),)
    page = b"<html><script>fetch('/console/users')</script></html>"
    url = http_server.script(path, http_server.reply(body=page, headers=binary))
    with pytest.raises(DownloadFailed, match="not audio") as failure:
        fetch(url, tmp_path)
    assert not failure.value.retryable
    assert list(tmp_path.iterdir()) == []


def test_redirect_to_a_disallowed_host_is_refused(http_server, tmp_path: Path) -> None:
    elsewhere = (("Location", "https://cdn.example.com/rec.wav"),)
    url = http_server.script("/rec.wav", http_server.reply(status=302, headers=elsewhere))
    with pytest.raises(DisallowedHost, match=r"cdn\.example\.com"):
        fetch(url, tmp_path)


def test_redirect_to_an_allowed_host_is_followed_without_credentials(
    http_server, tmp_path: Path
) -> None:
    target = http_server.url("/media/rec.wav", host="localhost")
    http_server.script("/media/rec.wav", http_server.reply(body=AUDIO, headers=WAV))
    url = http_server.script(
        "/rec.wav", http_server.reply(status=302, headers=(("Location", target),))
    )
    result = fetch(url, tmp_path, allowed_hosts=["127.0.0.1", "LocalHost"], auth=("AC1", "pw"))
    assert result.path.read_bytes() == AUDIO
    first, second = http_server.seen
    assert "Authorization" in first.headers
    assert "Authorization" not in second.headers


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.wav",
        ),
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.mp3",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.mp3",
        ),
        ("https://example.com/Recordings/RE1", "https://example.com/Recordings/RE1"),
        ("https://API.Twilio.com/x/RE1?a=1", "https://API.Twilio.com/x/RE1.wav?a=1"),
    ],
)
def test_twilio_urls_without_extension_get_wav(url: str, expected: str) -> None:
    assert twilio_media_url(url) == expected


class DrippingServer:
    """Sends headers at once, then one byte every 50 ms: per-read timeouts never fire."""

    def __init__(self, *, length: bool) -> None:
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.length = length
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/rec.wav"

    def _serve(self) -> None:
        import time

        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                head = "HTTP/1.1 200 OK\r\nContent-Type: audio/x-wav\r\nConnection: close\r\n"
                head += "Content-Length: 100000\r\n" if self.length else ""
                try:
                    conn.sendall((head + "\r\n").encode())
                    while not self.stop.is_set():
                        conn.sendall(b"\x00")
                        time.sleep(0.05)
                except OSError:
                    continue

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.mark.parametrize("length", [True, False], ids=["with-length", "without-length"])
def test_a_slow_drip_host_is_cut_off_at_the_deadline(tmp_path: Path, sleep: SleepRecorder,
                                                     length: bool) -> None:
    server = DrippingServer(length=length)
    try:
        with pytest.raises(DownloadFailed) as failure:
            fetch(server.url, tmp_path, sleep=sleep, timeout=5, deadline=1.0)
    finally:
        server.close()
    assert failure.value.retryable
    assert "longer than 1 s" in failure.value.reason
    assert list(tmp_path.iterdir()) == []  # nothing half-written is kept
