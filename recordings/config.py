"""The recording store a configuration names: RECORDINGS_URL (or RECORDINGS_DIR).

One store per process and configuration: boto3 clients are thread-safe but must not cross
a fork (an RQ work horse builds its own, since the cache is keyed by process id).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.config import parse_bool
from core.settings import setting
from recordings.store import LocalStore, RecordingStore

_STORES: dict[tuple[Any, ...], RecordingStore] = {}
_LOCK = threading.Lock()


def store_url(config: Mapping[str, Any]) -> str:
    """RECORDINGS_URL, or the local RECORDINGS_DIR as a ``file://`` URL."""
    url = (config.get("RECORDINGS_URL") or "").strip()
    return url or f"file://{Path(config['RECORDINGS_DIR']).resolve()}"


def s3_client(config: Mapping[str, Any]) -> Any:
    """A boto3 S3 client from the RECORDINGS_S3_* settings (else boto3's own chain)."""
    import boto3
    from botocore.config import Config

    endpoint = config.get("RECORDINGS_S3_ENDPOINT") or None
    addressing = config.get("RECORDINGS_S3_ADDRESSING") or ("path" if endpoint else "auto")
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("RECORDINGS_S3_REGION") or None,
        aws_access_key_id=config.get("RECORDINGS_S3_ACCESS_KEY") or None,
        aws_secret_access_key=config.get("RECORDINGS_S3_SECRET_KEY") or None,
        config=Config(
            s3={"addressing_style": addressing},
            signature_version="s3v4",
            connect_timeout=float(setting(config, "RECORDINGS_S3_TIMEOUT")),
            read_timeout=float(setting(config, "RECORDINGS_S3_TIMEOUT")) * 2,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=32,
        ),
    )


def open_store(config: Mapping[str, Any], url: str | None = None) -> RecordingStore:
    """The store for ``url`` (default: this configuration's), built once per process."""
    url = url or store_url(config)
    parts = urlsplit(url)
    cache_key = (os.getpid(), url, config.get("RECORDINGS_S3_ENDPOINT"),
                 config.get("RECORDINGS_S3_ACCESS_KEY"))
    with _LOCK:
        found = _STORES.get(cache_key)
        if found is not None:
            return found
        if parts.scheme == "file":
            store: RecordingStore = LocalStore(Path(parts.path))
        elif parts.scheme == "s3":
            from recordings.s3 import S3Store

            checksums = parse_bool(config.get("RECORDINGS_S3_CHECKSUMS"), default=True)
            store = S3Store(url, s3_client(config), checksums=checksums)
        else:
            raise ValueError(f"RECORDINGS_URL must be file:///dir or s3://bucket/prefix: {url!r}")
        _STORES[cache_key] = store
        return store
