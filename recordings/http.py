"""Serving a stored recording over HTTP: byte ranges, safe types, or a presigned redirect.

Only types from the audio allow-list are served inline; anything else (a row stored before
the content was checked) is an attachment of type octet-stream, and every media response
carries a sandboxing CSP, so nothing fetched from a media host can run in the console.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect
from werkzeug.http import parse_range_header, quote_etag, unquote_etag
from werkzeug.wrappers import Response as BaseResponse

from core.settings import setting
from recordings.audio_types import audio_mime_type
from recordings.store import (
    AudioMissing,
    ByteRange,
    RangeNotSatisfiable,
    RecordingStore,
    StoreUnavailable,
)

MEDIA_CSP = "default-src 'none'; sandbox"
_BASE_HEADERS = {
    "Accept-Ranges": "bytes",
    # Callers' voices: never in a shared cache.
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": MEDIA_CSP,
}


def _wanted_range(range_header: str | None, if_range: str | None, etag: str | None
                  ) -> ByteRange | None:
    """One byte range, or None for the whole object (multi-range requests get it whole)."""
    parsed = parse_range_header(range_header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    if if_range and (etag is None or unquote_etag(if_range)[0] != etag):
        return None  # the client's copy is of another version: send it all
    return parsed.ranges[0]


def audio_response(store: RecordingStore, key: str, *, sha256: str | None, download_name: str,
                   range_header: str | None = None, if_range: str | None = None,
                   presign_seconds: int = 0) -> BaseResponse:
    """The HTTP response for stored audio ``key`` (404/416/503 as plain statuses)."""
    mimetype = audio_mime_type(key)
    headers = dict(_BASE_HEADERS)
    if mimetype is None:
        mimetype = "application/octet-stream"
        headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    else:
        headers["Content-Disposition"] = f'inline; filename="{download_name}"'
        if presign_seconds > 0:
            url = store.presigned_url(key, seconds=presign_seconds, content_type=mimetype,
                                      download_name=download_name)
            if url:
                response = redirect(url, code=302)
                response.headers["Cache-Control"] = "private, no-store"
                return response
    if sha256:
        headers["ETag"] = quote_etag(sha256)
    byte_range = _wanted_range(range_header, if_range, sha256)
    try:
        stream = store.read(key, byte_range)
    except AudioMissing:
        return Response("录音文件不存在", status=404, mimetype="text/plain", headers=_BASE_HEADERS)
    except RangeNotSatisfiable as exc:
        return Response(status=416, headers={**_BASE_HEADERS,
                                             "Content-Range": f"bytes */{exc.total}"})
    except StoreUnavailable:
        return Response("录音存储暂时不可用，请稍后再试", status=503, mimetype="text/plain",
                        headers={**_BASE_HEADERS, "Retry-After": "5"})
    headers["Content-Length"] = str(stream.length)
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {stream.start}-{stream.end}/{stream.total}"
    response = Response(stream.chunks, status=status, mimetype=mimetype, headers=headers,
                        direct_passthrough=True)
    response.call_on_close(stream.close)
    return response


def media_sources(config: Mapping[str, Any]) -> str:
    """The CSP ``media-src`` for console pages: the object store too when players go there."""
    if int(setting(config, "RECORDINGS_PRESIGNED_SECONDS")) <= 0:
        return "'self'"
    endpoint = config.get("RECORDINGS_S3_ENDPOINT") or ""
    if not endpoint:  # AWS itself: bucket and region hosts vary
        return "'self' https://*.amazonaws.com"
    parts = urlsplit(endpoint)
    return f"'self' {parts.scheme}://{parts.netloc}"
