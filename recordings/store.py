"""The recording store interface, and the local-directory backend (the embedded default).

Keys are relative, ``<YYYY-MM>/<RecordingSid>.<ext>``, identical in every backend, so moving
recordings between backends (``flask recordings migrate``) never rewrites the database.
Every backend makes a stored object appear whole under its key or not at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class StoreUnavailable(Exception):
    """The store could not be reached or failed; trying again later may work."""


class AudioMissing(Exception):
    """No object under this key."""


class RangeNotSatisfiable(Exception):
    """The requested byte range lies outside the object."""

    def __init__(self, total: int) -> None:
        super().__init__(f"range not satisfiable (object is {total} bytes)")
        self.total = total


class ChecksumMismatch(Exception):
    """The stored bytes are not the bytes whose SHA-256 the database holds."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str | None  # as recorded at upload time (None for objects stored by other means)


@dataclass
class AudioStream:
    """Bytes ``start``–``end`` (inclusive) of an object of ``total`` bytes, as chunks."""

    total: int
    start: int
    end: int
    chunks: Iterator[bytes]
    close: Callable[[], None]

    @property
    def length(self) -> int:
        return self.end - self.start + 1


ByteRange = tuple[int, int | None]
"""HTTP semantics: ``(start, stop)`` with ``stop`` exclusive or None; ``(-n, None)`` = last n."""


def check_key(key: str) -> str:
    """The key itself, or ValueError for anything that could escape a prefix or directory."""
    if not _KEY.fullmatch(key) or ".." in key.split("/") or len(key) > 512:
        raise ValueError(f"not a valid recording key: {key!r}")
    return key


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_range(byte_range: ByteRange | None, total: int) -> tuple[int, int]:
    """Inclusive (start, end) for ``byte_range`` in an object of ``total`` bytes."""
    if byte_range is None:
        return 0, total - 1
    start, stop = byte_range
    if start < 0:
        start = max(total + start, 0)
    end = total - 1 if stop is None else min(stop, total) - 1
    if start >= total or end < start:
        raise RangeNotSatisfiable(total)
    return start, end


class RecordingStore(ABC):
    """Where recordings are kept; one instance per process, safe to share between threads."""

    url: str

    @abstractmethod
    def put(self, key: str, source: Path, *, sha256: str, content_type: str) -> None:
        """Store the file ``source`` under ``key``, atomically (whole or not at all)."""

    @abstractmethod
    def head(self, key: str) -> StoredObject | None:
        """Size and recorded SHA-256 of ``key``, or None when it is not stored."""

    @abstractmethod
    def read(self, key: str, byte_range: ByteRange | None = None) -> AudioStream:
        """Stream (part of) ``key``; AudioMissing, RangeNotSatisfiable, StoreUnavailable."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if it is not there)."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored key."""

    def presigned_url(self, key: str, *, seconds: int, content_type: str,
                      download_name: str) -> str | None:
        """A short-lived URL the browser may fetch directly; None if the backend has none."""
        return None

    def fetch(self, key: str, dest: Path, *, sha256: str | None = None) -> Path:
        """Copy ``key`` into the local file ``dest``, checking ``sha256`` when given."""
        digest = hashlib.sha256()
        stream = self.read(key)
        try:
            with open(dest, "wb") as out:
                for block in stream.chunks:
                    digest.update(block)
                    out.write(block)
        finally:
            stream.close()
        if sha256 is not None and digest.hexdigest() != sha256:
            dest.unlink(missing_ok=True)
            raise ChecksumMismatch(f"{key}: stored bytes have SHA-256 {digest.hexdigest()}, "
                                   f"expected {sha256}")
        return dest

    def checksum(self, key: str) -> str:
        """SHA-256 of the bytes really stored under ``key`` (reads them all)."""
        digest = hashlib.sha256()
        stream = self.read(key)
        try:
            for block in stream.chunks:
                digest.update(block)
        finally:
            stream.close()
        return digest.hexdigest()


class LocalStore(RecordingStore):
    """Files under one directory; the SHA-256 lives in the database only."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = f"file://{self.root.resolve()}"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: Path, *, sha256: str, content_type: str) -> None:
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp_name, 0o640)  # callers' voices: not world-readable
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StoreUnavailable(f"cannot write {target}: {exc}") from exc

    def head(self, key: str) -> StoredObject | None:
        path = self.path(key)
        return StoredObject(key, path.stat().st_size, None) if path.is_file() else None

    def read(self, key: str, byte_range: ByteRange | None = None) -> AudioStream:
        path = self.path(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the stream's close()
        except FileNotFoundError as exc:
            raise AudioMissing(key) from exc
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {path}: {exc}") from exc
        try:
            total = os.fstat(handle.fileno()).st_size
            start, end = resolve_range(byte_range, total)
        except BaseException:
            handle.close()
            raise
        handle.seek(start)

        def chunks() -> Iterator[bytes]:
            left = end - start + 1
            while left > 0:
                block = handle.read(min(CHUNK, left))
                if not block:
                    return
                left -= len(block)
                yield block

        return AudioStream(total, start, end, chunks(), handle.close)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()
