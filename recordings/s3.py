"""The S3-compatible backend (AWS, MinIO, SeaweedFS, Ceph RGW, OSS's S3 API) through boto3.

An object is written with one PutObject (recordings are at most RECORDING_MAX_BYTES, far
below S3's 5 GB single-request limit): S3 makes it visible whole or not at all, so no
half-written object ever appears under its key. The SHA-256 computed at download travels
as ``x-amz-checksum-sha256`` where the server checks it, and as metadata for later checks.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from recordings.store import (
    CHUNK,
    AudioMissing,
    AudioStream,
    ByteRange,
    RangeNotSatisfiable,
    RecordingStore,
    StoredObject,
    StoreUnavailable,
    check_key,
)

_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
# Larger than the local backend's chunks: each chunk from botocore costs a Python-level read
# of the socket, and 64 kB chunks made streaming ~25 % slower than one plain read().
_S3_CHUNK = 4 * CHUNK


def _range_header(byte_range: ByteRange | None) -> str | None:
    if byte_range is None:
        return None
    start, stop = byte_range
    if start < 0:
        return f"bytes={start}"
    return f"bytes={start}-" + ("" if stop is None else str(stop - 1))


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3Store(RecordingStore):
    """Objects under ``s3://bucket/prefix``; ``client`` is a boto3 S3 client."""

    def __init__(self, url: str, client: Any, *, checksums: bool = True) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        self.url = url
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = client
        self.checksums = checksums

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source: Path, *, sha256: str, content_type: str) -> None:
        name = self.object_key(key)
        extra: dict[str, Any] = {}
        if self.checksums:
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        try:
            with open(source, "rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=body,
                                       ContentType=content_type, Metadata={"sha256": sha256},
                                       **extra)
        except Exception as exc:
            raise StoreUnavailable(f"cannot store {key} in {self.url}: {exc}") from exc

    def head(self, key: str) -> StoredObject | None:
        name = self.object_key(key)
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if _code(exc) in _MISSING:
                return None
            raise StoreUnavailable(f"cannot reach {self.url}: {exc}") from exc
        return StoredObject(key, int(found["ContentLength"]),
                            (found.get("Metadata") or {}).get("sha256"))

    def read(self, key: str, byte_range: ByteRange | None = None) -> AudioStream:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key)}
        header = _range_header(byte_range)
        if header:
            args["Range"] = header
        try:
            found = self.client.get_object(**args)
        except Exception as exc:
            code = _code(exc)
            if code in _MISSING:
                raise AudioMissing(key) from exc
            if code in ("InvalidRange", "416"):
                stored = self.head(key)
                raise RangeNotSatisfiable(stored.size if stored else 0) from exc
            raise StoreUnavailable(f"cannot read {key} from {self.url}: {exc}") from exc
        length = int(found["ContentLength"])
        content_range = found.get("ContentRange")
        if content_range:  # "bytes 0-99/1234"
            span, _, total_text = content_range.removeprefix("bytes ").partition("/")
            first, _, last = span.partition("-")
            start, end, total = int(first), int(last), int(total_text)
        else:
            start, end, total = 0, length - 1, length
        body = found["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(_S3_CHUNK)
            except Exception as exc:
                raise StoreUnavailable(f"reading {key} from {self.url} broke: {exc}") from exc

        return AudioStream(total, start, end, chunks(), body.close)

    def delete(self, key: str) -> None:
        name = self.object_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            raise StoreUnavailable(f"cannot delete {key} from {self.url}: {exc}") from exc

    def keys(self) -> Iterator[str]:
        prefix = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(prefix):]

    def presigned_url(self, key: str, *, seconds: int, content_type: str,
                      download_name: str) -> str | None:
        return str(self.client.generate_presigned_url(
            "get_object", ExpiresIn=seconds,
            Params={"Bucket": self.bucket, "Key": self.object_key(key),
                    "ResponseContentType": content_type,
                    "ResponseCacheControl": "private, no-store",
                    "ResponseContentDisposition": f'inline; filename="{download_name}"'}))
