"""Downloading voicemail recordings from Twilio (and only from allowed hosts).

The recording URL arrives in a webhook, so it is untrusted input: it is fetched only
from an allowed host, over HTTPS (plain HTTP only on loopback, for local testing),
never larger than a limit, and written to disk atomically under its SHA-256, with an
audio extension decided from its first bytes (non-audio is refused: see recordings.audio_types).
Twilio publishes recordings with a delay, so 404 is retried like server errors.

Long on purpose: the URL checks, the connection to the checked address and the size and type
limits are one security boundary for untrusted input, reviewed together.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3

from recordings.audio_types import SNIFF_BYTES, sniff_audio_extension

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# A two-minute voicemail is about 2 MB of WAV: far less than this even on a slow link.
DEFAULT_DEADLINE = 120.0
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_4XX = frozenset({404, 429})  # 404: Twilio has not published the recording yet
_MAX_REDIRECTS = 5
_MAX_DELAY = 60.0
_CHUNK = 64 * 1024
_UNSAFE_URL_CHARS = frozenset("\\\x00\r\n\t ")


class DownloadError(Exception):
    """Base class for recording download errors."""


class DisallowedURL(DownloadError):
    """The URL was refused before (or instead of) contacting the host it names."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"refusing to download {url}: {reason}")
        self.url = url
        self.reason = reason


class DisallowedHost(DisallowedURL):
    """The URL (or a redirect) points at a host that is not in the allowed list."""

    def __init__(self, url: str, host: str) -> None:
        super().__init__(url, f"host {host!r} is not an allowed recording host")
        self.host = host


class DownloadFailed(DownloadError):
    """The download did not succeed; ``retryable`` says whether trying later may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class _TryAgain(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class DownloadedFile:
    """A recording saved to disk."""

    path: Path
    sha256: str
    size: int
    content_type: str


def download_recording(
    url: str,
    *,
    allowed_hosts: Sequence[str],
    auth: tuple[str, str] | None,
    dest_dir: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 10.0,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    name: str | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
) -> DownloadedFile:
    """Download a recording into ``dest_dir`` as ``<name or sha256[:16]>.<ext>``.

    Raises DisallowedURL/DisallowedHost without any request for refused URLs, and
    DownloadFailed once ``retries`` retries (exponential back-off from ``backoff``
    seconds) are used up or the failure is permanent. ``auth`` is sent as HTTP
    Basic, and only to the URL's own origin. ``deadline`` bounds the whole download,
    retries and back-off included (per-read timeouts alone let a host that drips a byte
    every few seconds hold a worker for as long as it likes); past it the download fails
    as retryable, and the job's own retries try again later.
    """
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    allowed = frozenset(_normalise_host(h) for h in allowed_hosts)
    url = twilio_media_url(url)
    check_url(url, allowed)
    if name is not None and (not name or any(c in name for c in "/\\\x00") or name[0] == "."):
        raise ValueError(f"not a plain file name: {name!r}")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    http = session if session is not None else requests.Session()
    clock = _Deadline(deadline)
    try:
        for attempt in range(retries + 1):
            try:
                return _attempt(url, allowed, auth, dest_dir, max_bytes, timeout, http, name,
                                clock)
            except _TryAgain as exc:
                if clock.expired:
                    raise DownloadFailed(
                        f"download took longer than {deadline:.0f} s: {exc.reason}",
                        retryable=True,
                    ) from exc
                if attempt == retries:
                    raise DownloadFailed(
                        f"gave up after {attempt + 1} attempts: {exc.reason}", retryable=True
                    ) from exc
                delay = min(max(backoff * 2**attempt, exc.retry_after or 0.0), _MAX_DELAY)
                if delay >= clock.remaining():
                    raise DownloadFailed(
                        f"no time left within {deadline:.0f} s to retry: {exc.reason}",
                        retryable=True,
                    ) from exc
                log.info("recording download failed (%s); retrying in %.1f s", exc.reason, delay)
                sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
    finally:
        if session is None:
            http.close()


def twilio_media_url(url: str) -> str:
    """Append ``.wav`` to a Twilio recording URL without an extension.

    With ``.wav`` Twilio serves the recording as PCM WAV (8 kHz mono, docs/decisions.md §3);
    naming the format explicitly avoids depending on its content negotiation.
    """
    parts = urlsplit(url)
    path = parts.path
    twilio = is_twilio_host(parts.hostname or "")
    if twilio and path and not path.endswith("/") and not PurePosixPath(path).suffix:
        return urlunsplit(parts._replace(path=path + ".wav"))
    return url


def check_url(url: str, allowed_hosts: frozenset[str] | Sequence[str]) -> None:
    """Raise DisallowedURL/DisallowedHost unless ``url`` may be fetched."""
    allowed = {_normalise_host(h) for h in allowed_hosts}
    if any(c in _UNSAFE_URL_CHARS for c in url):
        # Parsers disagree on these; a differential could smuggle another host past us.
        raise DisallowedURL(url, "the URL contains whitespace, control characters or '\\'")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = _normalise_host(parts.hostname or "")
    if scheme not in ("http", "https") or not host:
        raise DisallowedURL(url, "only http(s) URLs with a host name can be fetched")
    if parts.username is not None or parts.password is not None:
        raise DisallowedURL(url, "credentials in the URL are not accepted (pass auth)")
    if host not in allowed:
        raise DisallowedHost(url, host)
    if scheme == "http" and not _is_loopback(host):
        raise DisallowedURL(url, "plain http is only allowed to loopback hosts; use https")


def is_twilio_host(host: str) -> bool:
    """True for api.twilio.com and Twilio's other hosts (not the local terminal phone)."""
    host = _normalise_host(host)
    return host == "twilio.com" or host.endswith(".twilio.com")


def _normalise_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), _normalise_host(parts.hostname or ""), parts.port


class _Deadline:
    """The download's total time limit, enforced even while a read is blocked.

    A per-read timeout restarts with every byte; here a timer shuts the response's socket
    down when time is up, so the blocked read returns at once.
    """

    def __init__(self, seconds: float | None) -> None:
        self.ends = time.monotonic() + seconds if seconds else None
        self.expired = False

    def remaining(self) -> float:
        return float("inf") if self.ends is None else max(0.0, self.ends - time.monotonic())

    def read_timeout(self, timeout: float) -> float:
        left = self.remaining()
        if left <= 0:
            self.expired = True
            raise _TryAgain("the download deadline passed")
        return min(timeout, left)

    @contextmanager
    def guard(self, response: requests.Response) -> Iterator[None]:
        if self.ends is None:
            yield
            return
        timer = threading.Timer(self.remaining(), self._cut, args=(response,))
        timer.daemon = True
        timer.start()
        try:
            yield
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _TryAgain(f"connection broke during the download: {exc}") from exc
        finally:
            timer.cancel()
        if self.expired:
            raise _TryAgain("the download deadline passed")

    def _cut(self, response: requests.Response) -> None:
        self.expired = True
        sock = _socket_of(response)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response reads from (urllib3 → http.client → socket)."""
    raw = response.raw
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    reader = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _attempt(
    url: str,
    allowed: frozenset[str],
    auth: tuple[str, str] | None,
    dest_dir: Path,
    max_bytes: int,
    timeout: float,
    session: requests.Session,
    name: str | None,
    clock: _Deadline,
) -> DownloadedFile:
    # Redirects are followed by hand: requests would follow them to any host. Twilio
    # may redirect media to a storage/CDN host; it is followed only if that host is in
    # allowed_hosts too (RECORDING_HOSTS), so operators opt in to each host explicitly.
    current = url
    for _hop in range(_MAX_REDIRECTS + 1):
        # Like requests itself, never send the account credentials to another origin.
        hop_auth = auth if _origin(current) == _origin(url) else None
        response = _send(session, current, hop_auth, clock.read_timeout(timeout), allowed)
        with response, clock.guard(response):
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise DownloadFailed(
                        f"HTTP {response.status_code} redirect without a Location header",
                        retryable=False,
                    )
                current = urljoin(current, location)
                check_url(current, allowed)
                continue
            _check_response(response, max_bytes)
            try:
                saved = _save(response, dest_dir, max_bytes, name, current)
            except DownloadFailed:
                if clock.expired:  # a body cut short is judged by the deadline, not its bytes
                    raise _TryAgain("the download deadline passed") from None
                raise
            if clock.expired:  # cut off by the deadline: a body without length looks whole
                saved.path.unlink(missing_ok=True)
                raise _TryAgain("the download deadline passed")
            return saved
    raise DownloadFailed(f"more than {_MAX_REDIRECTS} redirects", retryable=False)


def _send(
    session: requests.Session,
    url: str,
    auth: tuple[str, str] | None,
    timeout: float,
    allowed: frozenset[str],
) -> requests.Response:
    try:
        prepared = session.prepare_request(requests.Request("GET", url, auth=auth))
        # Check what will really be sent, in case requests re-encodes the URL.
        sent_url = prepared.url or ""
        check_url(sent_url, allowed)
        settings = session.merge_environment_settings(sent_url, {}, True, None, None)
        settings["stream"] = True  # the body is read by _save, under the deadline's guard
        return session.send(prepared, allow_redirects=False, timeout=timeout, **settings)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _TryAgain(f"cannot reach {urlsplit(url).hostname}: {exc}") from exc
    except requests.RequestException as exc:
        raise DownloadFailed(f"request failed: {exc}", retryable=False) from exc


def _check_response(response: requests.Response, max_bytes: int) -> None:
    status = response.status_code
    if status >= 500 or status in _RETRYABLE_4XX:
        raise _TryAgain(f"HTTP {status}", _retry_after(response))
    if status != 200:
        raise DownloadFailed(f"HTTP {status} {response.reason}", retryable=False)
    content_type = _media_type(response)
    if not (content_type.startswith("audio/") or content_type == "application/octet-stream"):
        raise DownloadFailed(
            f"unexpected content type {content_type!r}: not a recording", retryable=False
        )
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise DownloadFailed(
            f"recording is {int(length)} bytes, over the {max_bytes}-byte limit", retryable=False
        )


def _media_type(response: requests.Response) -> str:
    # RFC 9110 §8.3: a body without Content-Type may be treated as octet-stream.
    header = response.headers.get("Content-Type") or "application/octet-stream"
    return header.split(";", 1)[0].strip().lower()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


def _save(
    response: requests.Response, dest_dir: Path, max_bytes: int, name: str | None, url: str
) -> DownloadedFile:
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=dest_dir)
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                for block in response.iter_content(_CHUNK):
                    size += len(block)
                    if size > max_bytes:
                        raise DownloadFailed(
                            f"recording exceeds the {max_bytes}-byte limit", retryable=False
                        )
                    digest.update(block)
                    if len(head) < SNIFF_BYTES:
                        head += block[:SNIFF_BYTES - len(head)]
                    out.write(block)
            except requests.RequestException as exc:
                raise _TryAgain(f"connection broke during the download: {exc}") from exc
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) != size:
            raise _TryAgain(f"incomplete body: {size} of {declared} bytes")
        if size == 0:
            raise _TryAgain("empty response body")
        sha256 = digest.hexdigest()
        content_type = _media_type(response)
        extension = sniff_audio_extension(head)
        if extension is None:
            # Whatever the URL or Content-Type claim: never store (or later serve) non-audio.
            raise DownloadFailed(f"the body from {url} is not audio ({content_type}, "
                                 f"starts with {head[:8]!r})", retryable=False)
        final = dest_dir / f"{name or sha256[:16]}.{extension}"
        os.replace(tmp_path, final)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return DownloadedFile(path=final, sha256=sha256, size=size, content_type=content_type)
