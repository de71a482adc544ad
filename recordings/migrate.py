"""Copy every stored recording from one store to another, verified, resumable, while running.

Keys are the same in every store, so the database does not change (rows still holding a
legacy absolute path get their key). Each object is read from the source and checked
against the SHA-256 in the database, written to the target atomically, and read back from
the target and checked again. An object already in the target with the right checksum is
skipped, so an interrupted run simply runs again.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ivr.models import Recording
from recordings.audio_types import audio_mime_type
from recordings.keys import stored_key
from recordings.store import (
    AudioMissing,
    ChecksumMismatch,
    RecordingStore,
    StoreUnavailable,
    file_sha256,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Row:
    id: int
    sid: str
    audio_key: str
    sha256: str | None


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    # In the database but not in the source (e.g. stored on another node's disk).
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    keys_rewritten: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def _target_has(target: RecordingStore, key: str, sha256: str) -> bool:
    found = target.head(key)
    if found is None:
        return False
    if found.sha256 is not None:
        return found.sha256 == sha256
    return target.checksum(key) == sha256


def migrate(session: Session, source: RecordingStore, target: RecordingStore,
            recordings_dir: Path, *, progress: Callable[[str, str], None] | None = None
            ) -> MigrationReport:
    """Copy each recording the database knows from ``source`` to ``target``; see the module."""
    rows = [_Row(*row) for row in session.execute(
        select(Recording.id, Recording.recording_sid, Recording.audio_key, Recording.sha256)
        .where(Recording.audio_key.is_not(None)).order_by(Recording.id))]
    session.commit()  # no read transaction held through a long copy
    report = MigrationReport()
    with tempfile.TemporaryDirectory(prefix="hotline-migrate-") as scratch:
        for row in rows:
            outcome = _migrate_one(session, source, target, recordings_dir, row, Path(scratch),
                                   report)
            if progress is not None:
                progress(row.sid, outcome)
    return report


def _migrate_one(session: Session, source: RecordingStore, target: RecordingStore,
                 recordings_dir: Path, row: _Row, scratch: Path,
                 report: MigrationReport) -> str:
    """Copy one recording; returns what happened ("copied", "already there", …)."""
    sid = row.sid
    key = stored_key(row.audio_key, recordings_dir)
    if key is None:
        report.failed.append((sid, f"not a key or a path under {recordings_dir}"))
        return "failed"
    sha256 = row.sha256
    local = scratch / "object"
    try:
        if sha256 and _target_has(target, key, sha256):
            report.already_there += 1
            outcome = "already there"
        else:
            try:
                source.fetch(key, local, sha256=sha256)
            except AudioMissing:
                report.missing.append(sid)
                return "missing"
            sha256 = sha256 or file_sha256(local)
            target.put(key, local, sha256=sha256,
                       content_type=audio_mime_type(key) or "application/octet-stream")
            if target.checksum(key) != sha256:
                target.delete(key)
                raise ChecksumMismatch(f"{key}: the copy in the target does not match")
            report.copied += 1
            outcome = "copied"
    except (ChecksumMismatch, StoreUnavailable) as exc:
        report.failed.append((sid, str(exc)))
        return "failed"
    finally:
        local.unlink(missing_ok=True)
    if row.audio_key != key or row.sha256 != sha256:
        session.execute(update(Recording).where(Recording.id == row.id)
                        .values(local_path=key, sha256=sha256))
        session.commit()
        report.keys_rewritten += 1
    return outcome
