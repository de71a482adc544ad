"""What the case domain needs from the call log, as plain values behind a small interface.

Voicemails become cases, so the case domain reads the calls and recordings the IVR logs;
but the IVR builds on the case domain (its hooks file cases), so ``cases`` never imports
``ivr``. The app factory hands the IVR's implementation to :func:`use_call_log` once; tests
and scripts that build the app get it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Integer, String, column, table
from sqlalchemy.orm import Session

# The call log's table, referred to by name as the case tables' foreign keys do.
CALLS = table("calls", column("id", Integer), column("call_sid", String))


@dataclass(frozen=True)
class VoicemailSource:
    """A recording as the call log knows it, with the caller's menu choice."""

    recording_id: int
    recording_sid: str
    call_id: int | None = None
    caller: str | None = None
    category: str | None = None
    subcategory: str | None = None


class CallLog(Protocol):
    """The call log's side of voicemails (``ivr.calllog.VoicemailCallLog``)."""

    def recording(self, session: Session, recording_id: int) -> VoicemailSource | None:
        """The recording with this id, or None."""
        ...

    def recording_id(self, session: Session, recording_sid: str) -> int | None:
        """The id of the recording with this Twilio sid, or None."""
        ...

    def log_voicemail(self, session: Session, *, call_sid: str, recording_sid: str,
                      caller: str | None, at: datetime) -> VoicemailSource:
        """The call and recording rows of a reserved voicemail, created if not logged yet."""
        ...

    def unfiled_voicemails(self, session: Session, *, completed_after: datetime,
                           completed_before: datetime, limit: int) -> list[VoicemailSource]:
        """Completed recordings of inbound hotline calls with no case, no reservation and
        no survey attempt, logged in the window; oldest first."""
        ...


_call_log: CallLog | None = None


def use_call_log(call_log: CallLog) -> None:
    """Called once by the app factory (the composition root)."""
    global _call_log
    _call_log = call_log


def call_log() -> CallLog:
    if _call_log is None:
        raise RuntimeError("no call log configured: create the app (app.create_app) first")
    return _call_log
