"""Failures caused by something outside the recording: a full disk, an unreachable media host.

Such a failure says nothing about the recording, so it is retried as soon as the cause is
gone rather than on the slow schedule of a recording that keeps failing: its retry time backs
off from one minute to at most :data:`RESOURCE_BACKOFF_CAP`, a disk-full failure is retried
by the reconciliation (every minute) as soon as the recordings' disk has room again
(:func:`space_is_back`), and neither counts towards giving up (``TRANSCRIPTION_MAX_ATTEMPTS``).
The cause is the first words of the row's ``transcription_error``.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DISK_FULL = "磁盘空间不足 / disk full"
MEDIA_HOST = "录音服务器无法访问 / media host unreachable"
CAUSES = (DISK_FULL, MEDIA_HOST)
RESOURCE_BACKOFF_CAP = timedelta(minutes=10)
# Room a download needs before a disk-full failure is tried again: two of the largest.
DEFAULT_MIN_FREE = 2 * 50 * 1024 * 1024


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def resource_cause(exc: BaseException) -> str | None:
    """:data:`DISK_FULL`, :data:`MEDIA_HOST` or None for a failure of the recording itself."""
    import requests
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    for item in _chain(exc):
        if isinstance(item, OSError) and item.errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        if isinstance(item, requests.ConnectionError | requests.Timeout | BotoConnectionError
                      | ConnectTimeoutError | EndpointConnectionError):
            return MEDIA_HOST
    return None


def with_cause(cause: str, reason: str) -> str:
    return f"{cause}: {reason}"


def cause_of(error: str | None) -> str | None:
    """The resource cause recorded on a row's ``transcription_error``, if any."""
    return next((cause for cause in CAUSES if (error or "").startswith(cause)), None)


def resource_retry_time(now: datetime, attempts: int) -> datetime:
    """1, 2, 4, 8 … minutes, at most :data:`RESOURCE_BACKOFF_CAP`."""
    return now + min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)),
                     RESOURCE_BACKOFF_CAP)


def free_bytes(path: Path) -> int:
    """Free space on the file system holding ``path`` (its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def space_is_back(config: Mapping[str, Any]) -> bool:
    """Whether the local recordings directory has room for downloads again."""
    if str(config.get("RECORDINGS_URL") or "").startswith("s3://"):
        return True  # an object store: no local disk to fill
    directory = Path(config.get("RECORDINGS_DIR") or config.get("INSTANCE_PATH") or ".")
    needed = max(DEFAULT_MIN_FREE, 2 * int(config.get("RECORDING_MAX_BYTES") or 0))
    return free_bytes(directory) >= needed
