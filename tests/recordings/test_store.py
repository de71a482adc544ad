"""Both recording-store backends through one suite: local directory and S3 (SeaweedFS)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recordings.config import open_store
from recordings.store import (
    AudioMissing,
    ChecksumMismatch,
    RangeNotSatisfiable,
    RecordingStore,
    StoreUnavailable,
)

DATA = bytes(range(256)) * 300  # 76,800 bytes: more than one read chunk


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordingStore]:
    if request.param == "local":
        yield open_store({"RECORDINGS_DIR": str(tmp_path / "recordings")})
        return
    seaweed = request.getfixturevalue("seaweed")
    url = request.getfixturevalue("s3_url")
    yield open_store({"RECORDINGS_URL": url, "RECORDINGS_DIR": "",
                      **seaweed.settings()})


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "upload.wav"
    path.write_bytes(DATA)
    return path


SHA = hashlib.sha256(DATA).hexdigest()


def put(store: RecordingStore, source: Path, key: str = "2026-11/RE1.wav") -> str:
    store.put(key, source, sha256=SHA, content_type="audio/wav")
    return key


def read(store: RecordingStore, key: str, byte_range: Any = None) -> tuple[bytes, int, int, int]:
    stream = store.read(key, byte_range)
    try:
        return b"".join(stream.chunks), stream.start, stream.end, stream.total
    finally:
        stream.close()


def test_put_then_read_whole_and_head(store: RecordingStore, source: Path) -> None:
    key = put(store, source)
    assert read(store, key) == (DATA, 0, len(DATA) - 1, len(DATA))
    found = store.head(key)
    assert found is not None and found.size == len(DATA)
    assert found.sha256 in (SHA, None)  # S3 keeps it as metadata, the local disk does not
    assert list(store.keys()) == [key]


@pytest.mark.parametrize(("byte_range", "expected"), [
    ((100, 200), (100, 199)),
    ((70_000, None), (70_000, len(DATA) - 1)),
    ((-44, None), (len(DATA) - 44, len(DATA) - 1)),
    ((10, 10_000_000), (10, len(DATA) - 1)),
])
def test_byte_ranges(store: RecordingStore, source: Path, byte_range: Any,
                     expected: tuple[int, int]) -> None:
    key = put(store, source)
    data, start, end, total = read(store, key, byte_range)
    assert (start, end, total) == (*expected, len(DATA))
    assert data == DATA[expected[0]:expected[1] + 1]


def test_a_range_past_the_end_is_not_satisfiable(store: RecordingStore, source: Path) -> None:
    key = put(store, source)
    with pytest.raises(RangeNotSatisfiable) as refused:
        store.read(key, (len(DATA) + 5, None))
    assert refused.value.total == len(DATA)


def test_missing_keys(store: RecordingStore) -> None:
    assert store.head("2026-11/REnone.wav") is None
    with pytest.raises(AudioMissing):
        store.read("2026-11/REnone.wav")
    store.delete("2026-11/REnone.wav")  # no error


def test_fetch_checks_the_sha256(store: RecordingStore, source: Path, tmp_path: Path) -> None:
    key = put(store, source)
    copy = store.fetch(key, tmp_path / "copy.wav", sha256=SHA)
    assert copy.read_bytes() == DATA
    assert store.checksum(key) == SHA
    with pytest.raises(ChecksumMismatch):
        store.fetch(key, tmp_path / "other.wav", sha256="0" * 64)
    assert not (tmp_path / "other.wav").exists()  # nothing half-checked left behind


def test_overwrite_and_delete(store: RecordingStore, source: Path, tmp_path: Path) -> None:
    key = put(store, source)
    smaller = tmp_path / "smaller.wav"
    smaller.write_bytes(DATA[:1000])
    store.put(key, smaller, sha256=hashlib.sha256(DATA[:1000]).hexdigest(),
              content_type="audio/wav")
    assert read(store, key)[0] == DATA[:1000]
    store.delete(key)
    assert store.head(key) is None and list(store.keys()) == []


@pytest.mark.parametrize("key", ["../escape.wav", "/abs.wav", "a/../../b.wav", "a//b.wav",
                                 ".hidden", "a b.wav", ""])
def test_keys_that_could_escape_are_refused(store: RecordingStore, source: Path,
                                            key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, source, sha256=SHA, content_type="audio/wav")
    with pytest.raises(ValueError):
        store.read(key)


def test_a_failed_upload_leaves_nothing_under_the_key(store: RecordingStore,
                                                      tmp_path: Path) -> None:
    # A source that breaks half-way through being read (a disk error, a killed process).
    broken = tmp_path / "broken.wav"
    broken.write_bytes(DATA)
    original_open = open

    def failing_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = original_open(path, mode, *args, **kwargs)
        if Path(path) != broken:
            return handle
        real_read = handle.read

        def read_then_break(size: int = -1) -> bytes:
            if handle.tell() >= 4096:
                raise OSError("disk read error")
            return real_read(min(size, 4096) if size and size > 0 else 4096)

        handle.read = read_then_break
        return handle

    import builtins

    builtins.open = failing_open
    try:
        with pytest.raises((StoreUnavailable, OSError)):
            store.put("2026-11/REbroken.wav", broken, sha256=SHA, content_type="audio/wav")
    finally:
        builtins.open = original_open
    assert store.head("2026-11/REbroken.wav") is None
    assert list(store.keys()) == []
