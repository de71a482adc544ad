"""Twilio's Recordings REST API: find recordings whose callback never came, delete stored ones.

Webhooks get lost (our outage, Twilio giving up after retries); the Recordings list is the
source of truth, so a periodic job lists what was created since its last successful check
(docs/decisions.md §3). The HTTP client is injectable so tests can assert the exact request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from twilio.http import HttpClient
from twilio.rest import Client

from transcription.models import SyncMark

log = logging.getLogger(__name__)

API_BASE = "https://api.twilio.com"
MARK_NAME = "twilio-recordings"
# Listing overlaps the previous window: Twilio's clock and ours differ, and a recording
# created during the last listing must not slip between two windows. Duplicates are free.
OVERLAP = timedelta(minutes=10)
FIRST_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class RemoteRecording:
    """One recording as Twilio lists it."""

    sid: str
    call_sid: str | None
    status: str
    duration: int | None
    url: str  # media URL without extension, like the RecordingUrl of a callback


def make_client(config: Mapping[str, Any], http_client: HttpClient | None = None) -> Client | None:
    """A REST client for the configured account; None when there is no real account.

    The locally generated auth token (``make run`` without Twilio) cannot call the API.
    """
    sid = config.get("TWILIO_ACCOUNT_SID") or ""
    token = config.get("TWILIO_AUTH_TOKEN") or ""
    if not sid or not token or config.get("TWILIO_AUTH_TOKEN_IS_LOCAL"):
        return None
    return Client(sid, token, http_client=http_client or config.get("TWILIO_HTTP_CLIENT"))


def list_recordings_since(client: Client, since: datetime) -> list[RemoteRecording]:
    """Recordings created after ``since`` (all pages)."""
    found = []
    for item in client.recordings.list(date_created_after=since):
        uri = item.uri or ""
        path = uri.removesuffix(".json")
        found.append(
            RemoteRecording(
                sid=str(item.sid),
                call_sid=item.call_sid,
                status=str(item.status or ""),
                duration=int(item.duration) if str(item.duration or "").isdigit() else None,
                url=f"{API_BASE}{path}" if path.startswith("/") else path,
            )
        )
    return found


def delete_recording(client: Client, recording_sid: str) -> bool:
    """Delete a recording from Twilio (after we stored it); False if Twilio refused."""
    try:
        return bool(client.recordings(recording_sid).delete())
    except Exception as exc:  # the REST client raises TwilioRestException, requests errors …
        log.warning("could not delete recording %s from Twilio: %s", recording_sid, exc)
        return False


def window_start(session: Session, now: datetime) -> datetime:
    """Where the next listing starts: the last successful check minus an overlap."""
    mark = session.get(SyncMark, MARK_NAME)
    if mark is None:
        return now - FIRST_LOOKBACK
    return mark.at - OVERLAP


def record_check(session: Session, at: datetime) -> None:
    """Remember a successful listing that started at ``at``."""
    mark = session.get(SyncMark, MARK_NAME)
    if mark is None:
        session.add(SyncMark(name=MARK_NAME, at=at))
    else:
        mark.at = at
