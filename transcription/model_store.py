"""Installing Vosk models into the models folder, and reporting what is installed.

Models are published as zips (alphacephei.com) that this environment may not reach,
so a model can be installed from a URL or from a zip copied by hand; either way the
SHA-256 is checked before anything is unpacked, the unpacked model is loaded once to
prove it works, and only then is it moved into place with a rename, so a worker never
sees a half-installed model (docs/decisions.md §4).

Long on purpose: download, checksum, unpack, verify and the rename into place are one
installation transaction whose crash-safety depends on the order of its steps.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit

import requests

from transcription.engine import ModelNotFound, VoskEngine, forget_engines, model_problems

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes received so far, total bytes or None when unknown)."""

Verifier = Callable[[Path], object]
"""Called with an unpacked model directory; raises if the model is unusable."""

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_DOWNLOAD_CHUNK = 1024 * 1024
_JUNK_TOP_DIRS = frozenset({"__MACOSX"})  # resource forks added by macOS' zip tool


class ModelInstallError(Exception):
    """A model could not be installed; nothing was changed in the models folder."""


@dataclass(frozen=True)
class ModelStatus:
    """What is (or is not) installed at a model path."""

    path: Path
    name: str
    exists: bool
    looks_valid: bool
    size_bytes: int
    problems: tuple[str, ...]

    @property
    def message(self) -> str:
        """One line for operators: installed and its size, or what is wrong."""
        if self.looks_valid:
            return f"{self.name}: installed at {self.path} ({self.size_bytes / 1e6:.1f} MB)"
        return f"{self.name}: not usable at {self.path}: {'; '.join(self.problems)}"


def model_status(path: Path) -> ModelStatus:
    """Inspect ``path`` without loading the model (cheap enough for a status page)."""
    path = Path(path)
    problems = model_problems(path)
    return ModelStatus(
        path=path,
        name=path.name,
        exists=path.is_dir(),
        looks_valid=not problems,
        size_bytes=_tree_size(path) if path.is_dir() else 0,
        problems=tuple(problems),
    )


def verify_model(path: Path) -> VoskEngine:
    """The default verifier: really load the model with Vosk."""
    try:
        return VoskEngine.load(path)
    except ModelNotFound as exc:
        raise ModelInstallError(f"the unpacked model does not work: {exc.reason}") from exc


def install_from_zip(
    zip_path: Path,
    models_dir: Path,
    *,
    sha256: str | None = None,
    name: str | None = None,
    overwrite: bool = False,
    verifier: Verifier = verify_model,
) -> Path:
    """Install the model in ``zip_path`` as ``models_dir/<name>`` and return that path.

    ``name`` defaults to the zip's single top-level folder (or the zip's file name when
    it has none). An existing model of that name is only replaced with ``overwrite``.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise ModelInstallError(f"{zip_path} does not exist or is not a file")
    if sha256 is not None:
        _check_sha256(file_sha256(zip_path), sha256, what=str(zip_path))
    return _install_zip(zip_path, Path(models_dir), name, zip_path.stem, overwrite, verifier)


class InstallInProgress(ModelInstallError):
    """Another process is downloading the same model zip right now."""


def partial_download_path(models_dir: Path, sha256: str) -> Path:
    """Where the download of the zip with ``sha256`` is kept until it is complete.

    Named after the expected checksum, so a resumed download can only ever continue the same
    file; it survives an interrupted download (a stopped ``make run``, a server gone) and the
    next attempt asks only for the missing bytes (HTTP Range).
    """
    return Path(models_dir) / f".download-{_normalise_sha256(sha256)[:16]}.zip.part"


def install_from_url(
    url: str,
    models_dir: Path,
    *,
    sha256: str,
    session: requests.Session | None = None,
    name: str | None = None,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    verifier: Verifier = verify_model,
    timeout: float = 30.0,
    attempts: int = 3,
    retry_pause: float = 1.0,
) -> Path:
    """Download a model zip (resuming an earlier partial download), check its SHA-256,
    then install it like ``install_from_zip``.

    A connection that breaks after some bytes arrived is resumed at once, up to ``attempts``
    times; a connection that brings nothing fails at once. The partial file is kept for the
    next call unless it was empty; a complete file with the wrong checksum is deleted.
    """
    expected = _normalise_sha256(sha256)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelInstallError(f"not an http(s) URL: {url!r}")
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    # Downloaded next to the models so the unpack never crosses file systems.
    part = partial_download_path(models_dir, expected)
    own_session = session is None
    http = session if session is not None else requests.Session()
    try:
        with _locked_part(part, url) as out:
            try:
                _download(url, out, http, progress, timeout, attempts, retry_pause)
            except BaseException:
                if out.seek(0, os.SEEK_END) == 0:
                    part.unlink(missing_ok=True)
                raise  # a non-empty part is kept: the next attempt resumes it
            try:
                _check_sha256(file_sha256(part), expected, what=url)
                fallback = PurePosixPath(parts.path).stem or "model"
                return _install_zip(part, models_dir, name, fallback, overwrite, verifier)
            finally:
                part.unlink(missing_ok=True)  # whole and checked, or wrong: never resumed
    finally:
        if own_session:
            http.close()


@contextlib.contextmanager
def _locked_part(part: Path, url: str) -> Iterator[BinaryIO]:
    """The partial download opened for appending, locked against a second downloader."""
    fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o640)
    with os.fdopen(fd, "r+b") as out:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InstallInProgress(f"another process is downloading {url} right now") from None
        yield out


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks (model zips are up to GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_DOWNLOAD_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _content_range_start(value: str | None) -> tuple[int, int | None] | None:
    """``bytes START-END/TOTAL`` → (START, TOTAL or None); None if unreadable."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", value or "")
    if match is None:
        return None
    total = match.group(2)
    return int(match.group(1)), (int(total) if total.isdigit() else None)


def _download(
    url: str,
    out: BinaryIO,
    session: requests.Session,
    progress: ProgressCallback | None,
    timeout: float,
    attempts: int,
    retry_pause: float,
) -> None:
    """Append the rest of ``url`` to ``out`` (which may hold its first bytes already)."""
    attempt = 0
    while True:
        attempt += 1
        offset = out.seek(0, os.SEEK_END)
        received = 0
        try:
            received = _fetch_rest(url, out, offset, session, progress, timeout)
            return
        except _Incomplete as exc:
            received, error = exc.received, exc.reason
        except requests.RequestException as exc:  # no connection, or no answer
            error = str(exc)
        done = out.seek(0, os.SEEK_END)
        if received <= 0 or attempt >= max(1, attempts):
            raise ModelInstallError(
                f"downloading {url} failed after {done} bytes: {error}"
                + ("; the next attempt resumes from there" if done else ""))
        log.warning("download of %s broke off after %d bytes (%s): resuming", url, done, error)
        time.sleep(retry_pause)


class _Incomplete(Exception):
    def __init__(self, received: int, reason: str) -> None:
        super().__init__(reason)
        self.received = received
        self.reason = reason


def _fetch_rest(url: str, out: BinaryIO, offset: int, session: requests.Session,
                progress: ProgressCallback | None, timeout: float) -> int:
    """One request for the bytes from ``offset`` on; returns how many arrived."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    connect = min(timeout, 10.0)
    with session.get(url, stream=True, timeout=(connect, timeout), headers=headers) as response:
        if offset and response.status_code == 416:
            return 0  # nothing left to fetch: the checksum decides whether it is whole
        total: int | None = None
        if offset and response.status_code == 206:
            found = _content_range_start(response.headers.get("Content-Range"))
            if found is None or found[0] > offset:
                raise ModelInstallError(
                    f"downloading {url} failed: the server resumed at an unexpected place "
                    f"({response.headers.get('Content-Range')!r})")
            start, total = found
            out.seek(start)
            out.truncate()
            offset = start
        elif response.status_code == 200:
            if offset:  # the server ignores Range: start again from the first byte
                out.seek(0)
                out.truncate()
                offset = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        else:
            raise ModelInstallError(f"downloading {url} failed: HTTP {response.status_code}")
        received = 0
        try:
            for block in response.iter_content(_DOWNLOAD_CHUNK):
                out.write(block)
                received += len(block)
                if progress is not None:
                    progress(offset + received, total)
        except requests.RequestException as exc:
            out.flush()
            raise _Incomplete(received, str(exc)) from exc
        out.flush()
        if total is not None and offset + received < total:
            raise _Incomplete(received, f"the connection closed at {offset + received} of "
                                        f"{total} bytes")
        return received


def _normalise_sha256(value: str) -> str:
    normalised = value.strip().lower()
    if not _SHA256_RE.fullmatch(normalised):
        raise ModelInstallError(f"not a SHA-256 hex digest: {value!r}")
    return normalised


def _check_sha256(actual: str, expected: str, *, what: str) -> None:
    if actual != _normalise_sha256(expected):
        raise ModelInstallError(
            f"SHA-256 mismatch for {what}: expected {_normalise_sha256(expected)}, got {actual}; "
            "the file is corrupt or not the model you meant, and nothing was installed"
        )


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    relative: PurePosixPath  # path inside the model directory


def _install_zip(
    zip_path: Path,
    models_dir: Path,
    name: str | None,
    fallback_name: str,
    overwrite: bool,
    verifier: Verifier,
) -> Path:
    models_dir.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            entries, top = _plan(archive)
            target_name = _check_name(name or top or fallback_name)
            target = models_dir / target_name
            if (target.exists() or target.is_symlink()) and not overwrite:
                raise ModelInstallError(f"{target} already exists (pass overwrite to replace it)")
            needed = sum(e.info.file_size for e in entries)
            if shutil.disk_usage(models_dir).free < needed:
                raise ModelInstallError(f"not enough disk space in {models_dir} ({needed} needed)")
            # Staging inside models_dir keeps the final rename on one file system (atomic).
            staging = Path(tempfile.mkdtemp(prefix=f".installing-{target_name}-", dir=models_dir))
            try:
                payload = staging / "model"
                _extract(archive, entries, payload)
                _run_verifier(verifier, payload)
                replaced = _move_into_place(payload, target, staging / "previous")
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ModelInstallError(f"{zip_path} is not a readable zip file: {exc}") from exc
    if replaced:
        forget_engines()  # the old model must not be served from this process's cache
    return target


def _run_verifier(verifier: Verifier, payload: Path) -> None:
    try:
        verifier(payload)
    except ModelInstallError:
        raise
    except Exception as exc:  # a verifier may fail in any way; the install must not
        raise ModelInstallError(f"the unpacked model failed verification: {exc}") from exc


def _plan(archive: zipfile.ZipFile) -> tuple[list[_Entry], str | None]:
    """Check every member for path tricks and work out the single top folder, if any."""
    entries: list[_Entry] = []
    for info in archive.infolist():
        path = _safe_member_path(info)
        if path is None or path.parts[0] in _JUNK_TOP_DIRS:
            continue
        entries.append(_Entry(info, path))
    files = [e for e in entries if not e.info.is_dir()]
    if not files:
        raise ModelInstallError("the zip file contains no files")
    tops = {e.relative.parts[0] for e in entries}
    if len(tops) == 1 and all(len(e.relative.parts) > 1 for e in files):
        top = tops.pop()
        stripped = [
            _Entry(e.info, PurePosixPath(*e.relative.parts[1:]))
            for e in entries
            if len(e.relative.parts) > 1
        ]
        return stripped, top
    return entries, None


def _safe_member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The member's relative path, or ModelInstallError for anything escaping the folder."""
    raw = info.filename
    if "\\" in raw or "\x00" in raw:
        raise ModelInstallError(f"refusing zip member with an unsafe name: {raw!r}")
    path = PurePosixPath(raw)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ModelInstallError(f"refusing zip member outside the model folder: {raw!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ModelInstallError(f"refusing symbolic link in the zip file: {raw!r}")
    parts = [p for p in path.parts if p != "."]
    return PurePosixPath(*parts) if parts else None


def _check_name(name: str) -> str:
    if not name or name in (".", "..") or name.startswith(".") or any(c in name for c in "/\\\x00"):
        raise ModelInstallError(f"not a usable model folder name: {name!r}")
    return name


def _extract(archive: zipfile.ZipFile, entries: list[_Entry], dest: Path) -> None:
    dest.mkdir()
    root = dest.resolve()
    for entry in entries:
        out_path = dest.joinpath(*entry.relative.parts)
        # Belt and braces on top of _safe_member_path: never write outside dest.
        if not out_path.resolve().is_relative_to(root):
            raise ModelInstallError(f"refusing zip member outside the model folder: {entry.info}")
        if entry.info.is_dir():
            out_path.mkdir(parents=True, exist_ok=True)
            continue
        out_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(entry.info) as src, open(out_path, "wb") as dst:
                shutil.copyfileobj(src, dst, _DOWNLOAD_CHUNK)
        except OSError as exc:
            raise ModelInstallError(f"could not unpack {entry.info.filename}: {exc}") from exc


def _move_into_place(payload: Path, target: Path, backup: Path) -> bool:
    """Rename ``payload`` to ``target``; returns whether an old model was replaced."""
    try:
        if target.exists() or target.is_symlink():
            # rename(2) cannot replace a non-empty directory: move the old one aside
            # first and put it back if the second rename fails.
            os.replace(target, backup)
            try:
                os.replace(payload, target)
            except OSError:
                os.replace(backup, target)
                raise
            return True
        os.replace(payload, target)
        return False
    except OSError as exc:
        raise ModelInstallError(f"could not move the model into {target}: {exc}") from exc


def _tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirnames, filenames in os.walk(path):
        for filename in filenames:
            file_path = Path(dirpath, filename)
            if not file_path.is_symlink():
                total += file_path.stat().st_size
    return total
