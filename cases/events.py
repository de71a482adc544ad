"""What happened to a case, announced to whoever listens (follow-up, texts, reports).

``cases`` never imports the packages that react to it: the case actions (``cases.actions``)
publish a small event (:class:`CaseAnswered`, :class:`RatingRecorded`,
:class:`RecordingTranscribed`, :class:`CaseTextArrived`) and the listeners the app factory
lists for it (``app.CASE_LISTENERS``, carried by the session: :mod:`cases.services`) run
inside the same transaction, in that order. A listener that raises aborts the step, exactly
as if the code were inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.case_models import Case
from cases.services import services


@dataclass(frozen=True)
class CaseAnswered:
    """A case became answered (one answered round, ``case.rework_count``)."""

    session: Session
    case: Case
    now: datetime


@dataclass(frozen=True)
class RatingRecorded:
    """A rating was stored for the current round, before rework (if any) starts."""

    session: Session
    case: Case
    score: int
    comment: str
    via: str
    now: datetime


@dataclass(frozen=True)
class RecordingTranscribed:
    """A recording that is not a voicemail of a case was transcribed; a listener claims it."""

    session: Session
    recording_id: int
    text: str
    now: datetime


@dataclass(frozen=True)
class CaseTextArrived:
    """A case got words to read: the text it was filed with, or a voicemail's transcript."""

    session: Session
    case: Case
    text: str
    source: str  # description | transcript
    recording_id: int | None
    now: datetime


Event = CaseAnswered | RatingRecorded | RecordingTranscribed | CaseTextArrived


def publish(event: Event) -> list[Any]:
    """Call every listener of the event's type; their results, in the listed order."""
    listeners = services(event.session).listeners.get(type(event), ())
    return [listener(event) for listener in listeners]
