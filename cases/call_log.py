"""What the case domain needs from the call log, as plain values behind a small interface.

Voicemails become cases, so the case domain reads the calls and recordings the IVR logs;
but the IVR builds on the case domain (its hooks file cases), so ``cases`` never imports
``ivr`` nor names its tables. The app factory gives the IVR's implementation
(``ivr.voicemail_log.VoicemailCallLog``) to the case domain with its other services
(:mod:`cases.services`); :func:`call_log` finds it on the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import BindParameter, Select
from sqlalchemy.orm import Session

from cases.services import services


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
    """The call log's side of voicemails (``ivr.voicemail_log.VoicemailCallLog``)."""

    def __hash__(self) -> int:
        """Statements built with :meth:`call_ids` are cached per call log."""
        ...

    def recording(self, session: Session, recording_id: int) -> VoicemailSource | None:
        """The recording with this id, or None."""
        ...

    def recording_id(self, session: Session, recording_sid: str) -> int | None:
        """The id of the recording with this Twilio sid, or None."""
        ...

    def caller(self, session: Session, call_id: int) -> str | None:
        """The number that made call ``call_id``, as logged."""
        ...

    def call_ids(self, call_sid: BindParameter[str]) -> Select[tuple[int]]:
        """A subquery of the ids of the calls with this sid (for statements of the domain)."""
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


def call_log(session: Session) -> CallLog:
    """The call log of the app this session belongs to."""
    from_app = services(session).call_log
    if from_app is None:
        raise RuntimeError("no call log given to the case domain: app.create_app gives it")
    return cast(CallLog, from_app)
