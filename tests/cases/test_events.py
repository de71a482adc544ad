"""The small event mechanism through which cases announce what happened: the listeners the
app lists, carried by the session (cases.services)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cases.events import CaseAnswered, RecordingTranscribed, publish
from cases.services import CaseServices

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def claim(event: RecordingTranscribed) -> bool:
    return event.recording_id == 7


def session_with(listeners: dict[type, tuple[Any, ...]]) -> Session:
    return Session(info=CaseServices(UTC, listeners=listeners).session_info())


def test_listeners_run_in_the_listed_order_and_return_their_results() -> None:
    calls: list[str] = []

    def first(event: RecordingTranscribed) -> str:
        calls.append("first")
        return "a"

    def second(event: RecordingTranscribed) -> bool:
        calls.append("second")
        return claim(event)

    session = session_with({RecordingTranscribed: (first, second)})
    assert publish(RecordingTranscribed(session, 7, "文本", NOW)) == ["a", True]
    assert publish(RecordingTranscribed(session, 8, "文本", NOW)) == ["a", False]
    assert calls == ["first", "second", "first", "second"]


def test_nobody_listening_publishes_nothing() -> None:
    session = session_with({RecordingTranscribed: (claim,)})
    assert publish(CaseAnswered(session, None, NOW)) == []  # type: ignore[arg-type]


def test_a_session_without_the_apps_wiring_cannot_publish() -> None:
    with pytest.raises(RuntimeError, match="no case services"):
        publish(RecordingTranscribed(Session(), 7, "文本", NOW))


def test_the_app_lists_the_listeners(app: Any) -> None:
    from core.db import db
    from followup import listeners

    services = db.session().info["case_services"]
    assert services.listeners[CaseAnswered] == (listeners.case_answered,)
