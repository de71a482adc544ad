"""What happened to a case, announced to whoever listens (follow-up, texts, reports).

``cases`` never imports the packages that react to it: the lifecycle publishes a small event
(:class:`CaseAnswered`, :class:`RatingRecorded`, :class:`RecordingTranscribed`,
:class:`CaseTextArrived`) and the
listeners subscribed at start-up (``subscribe``, usually from an ``init_app``) run inside the
same transaction, in subscription order. A listener that raises aborts the step, exactly as
if the code were inline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cases.case_models import Case


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
E = TypeVar("E", CaseAnswered, RatingRecorded, RecordingTranscribed, CaseTextArrived)
Listener = Callable[[Any], Any]

# event type -> {listener key -> listener}; keyed so repeated app start-ups (tests) never
# subscribe the same listener twice.
_listeners: dict[type, dict[str, Listener]] = {}


def subscribe(event_type: type[E], listener: Callable[[E], Any]) -> None:
    """Run ``listener(event)`` whenever an event of ``event_type`` is published."""
    key = f"{listener.__module__}.{listener.__qualname__}"
    _listeners.setdefault(event_type, {})[key] = listener


def publish(event: Event) -> list[Any]:
    """Call every listener of the event's type; their results, in subscription order."""
    return [listener(event) for listener in _listeners.get(type(event), {}).values()]
