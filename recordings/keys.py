"""Store keys of recordings: ``<YYYY-MM>/<RecordingSid>.<ext>``, the same in every backend."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from recordings.store import check_key


def new_key(created_at: datetime, file_name: str) -> str:
    """The key for a freshly downloaded file (one folder per month keeps listings small)."""
    return check_key(f"{created_at:%Y-%m}/{file_name}")


def stored_key(audio_key: str | None, recordings_dir: Path) -> str | None:
    """The key a recording row points at, or None if it has no usable one.

    Rows written before the store existed hold an absolute path under RECORDINGS_DIR;
    those map to the key relative to it (``flask recordings migrate`` rewrites them).
    """
    if not audio_key:
        return None
    path = Path(audio_key)
    if path.is_absolute():
        root = Path(recordings_dir).resolve()
        try:
            audio_key = path.resolve().relative_to(root).as_posix()
        except ValueError:
            return None
    try:
        return check_key(audio_key)
    except ValueError:
        return None
