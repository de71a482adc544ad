"""Read a case's text when it arrives (a ``CaseTextArrived`` listener listed by the app)."""

from __future__ import annotations

from cases.events import CaseTextArrived
from extraction.service import suggest_fields


def on_case_text(event: CaseTextArrived) -> None:
    suggest_fields(event.session, event.case, event.text, source=event.source, now=event.now,
                   recording_id=event.recording_id)
