"""``flask recordings migrate``: local → S3, verified by SHA-256, resumable."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db import db
from ivr.models import Recording
from recordings.config import open_store

WHEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _add(recordings_dir: Path, sid: str, data: bytes, *, legacy: bool = False) -> Recording:
    key = f"2026-11/{sid}.wav"
    path = recordings_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    recording = Recording(recording_sid=sid, created_at=WHEN, status="completed",
                          local_path=str(path) if legacy else key,
                          sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    db.session.add(recording)
    db.session.commit()
    return recording


def _run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["recordings", "migrate", *args])


def test_local_recordings_move_to_s3_verified_and_resumable(app: Any, seaweed: Any,
                                                            s3_url: str) -> None:
    app.config.update(seaweed.settings())
    local = Path(app.config["RECORDINGS_DIR"])
    blobs = {f"RE{i}": b"RIFF\x00\x00\x00\x00WAVE" + bytes([i]) * (5000 + i) for i in range(4)}
    for index, (sid, data) in enumerate(blobs.items()):
        _add(local, sid, data, legacy=index == 0)  # one row from before the store existed
    target = open_store(app.config, s3_url)
    # A run that was interrupted after the first object.
    target.put("2026-11/RE1.wav", local / "2026-11/RE1.wav",
               sha256=hashlib.sha256(blobs["RE1"]).hexdigest(), content_type="audio/wav")

    result = _run(app, "--to", s3_url)
    assert result.exit_code == 0, result.output
    assert "copied 3, 已存在 / already there 1" in result.output
    for sid, data in blobs.items():
        key = f"2026-11/{sid}.wav"
        assert target.checksum(key) == hashlib.sha256(data).hexdigest()
        assert target.head(key).sha256 == hashlib.sha256(data).hexdigest()  # type: ignore[union-attr]
    db.session.remove()
    assert sorted(db.session.scalars(select(Recording.local_path))) == [
        f"2026-11/{sid}.wav" for sid in sorted(blobs)]  # the legacy path became its key

    again = _run(app, "--to", s3_url, "--quiet")
    assert again.exit_code == 0 and "copied 0, 已存在 / already there 4" in again.output


def test_a_changed_or_missing_source_is_reported_not_copied(app: Any, seaweed: Any,
                                                            s3_url: str) -> None:
    app.config.update(seaweed.settings())
    local = Path(app.config["RECORDINGS_DIR"])
    _add(local, "REgood", b"RIFF\x00\x00\x00\x00WAVE" + b"g" * 3000)
    _add(local, "REchanged", b"RIFF\x00\x00\x00\x00WAVE" + b"c" * 3000)
    _add(local, "REgone", b"RIFF\x00\x00\x00\x00WAVE" + b"m" * 3000)
    (local / "2026-11/REchanged.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVE" + b"X" * 3000)
    (local / "2026-11/REgone.wav").unlink()

    result = _run(app, "--to", s3_url)
    assert result.exit_code == 1
    assert "copied 1" in result.output and "not in the source 1" in result.output
    assert "REchanged" in result.output and "failed 1" in result.output
    assert list(open_store(app.config, s3_url).keys()) == ["2026-11/REgood.wav"]


def test_migrating_into_the_same_store_is_refused(app: Any) -> None:
    url = f"file://{Path(app.config['RECORDINGS_DIR']).resolve()}"
    result = _run(app, "--to", url)
    assert result.exit_code == 2 and "already in" in result.output
