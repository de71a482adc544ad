"""The small event mechanism through which cases announce what happened."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cases import events
from cases.events import RecordingTranscribed


@pytest.fixture
def clean_listeners() -> Iterator[None]:
    saved = {kind: dict(found) for kind, found in events._listeners.items()}
    events._listeners.clear()
    yield
    events._listeners.clear()
    events._listeners.update(saved)


def claim(event: RecordingTranscribed) -> bool:
    return event.recording_id == 7


def test_listener_subscribed_twice_runs_once(clean_listeners: None) -> None:
    events.subscribe(RecordingTranscribed, claim)
    events.subscribe(RecordingTranscribed, claim)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert events.publish(RecordingTranscribed(None, 7, "文本", now)) == [True]  # type: ignore[arg-type]
    assert events.publish(RecordingTranscribed(None, 8, "文本", now)) == [False]  # type: ignore[arg-type]


def test_nobody_listening_publishes_nothing(clean_listeners: None) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert events.publish(RecordingTranscribed(None, 7, "", now)) == []  # type: ignore[arg-type]
