"""Wiring: read a case's text when it arrives (subscribed by the app factory)."""

from __future__ import annotations

from cases.events import CaseTextArrived, subscribe
from extraction.service import suggest_fields


def on_case_text(event: CaseTextArrived) -> None:
    suggest_fields(event.session, event.case, event.text, source=event.source, now=event.now,
                   recording_id=event.recording_id)


def subscribe_listeners() -> None:
    subscribe(CaseTextArrived, on_case_text)
