"""Where live utterances go: the console's live events (``callqueue.live``), through Redis.

Every utterance is published on the caller's call channel (its page, on any web node) and,
on an operator's leg, on that operator's channel (their screen pop). Publishing never fails a
stream: without Redis the call page shows the transcript once it is stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from callqueue.live import LiveBus, call_channel, operator_channel


def channels(call_sid: str, parameters: dict[str, str]) -> list[str]:
    """The call's channel, and the operator's when the stream says who they are."""
    found = [call_channel(call_sid)]
    agent = parameters.get("agent_id", "")
    if agent.isdigit():
        found.append(operator_channel(int(agent)))
    return found


def listen(bus: LiveBus, channel: str, *, seconds: float, tick: float = 15.0
           ) -> Iterator[dict[str, Any] | None]:
    """The events of ``channel`` (None as keep-alives every ``tick``) for ``seconds``."""
    deadline = time.monotonic() + seconds
    for event in bus.listen([channel], tick_seconds=tick):
        yield event
        if time.monotonic() >= deadline:
            return


__all__ = ["LiveBus", "call_channel", "channels", "listen", "operator_channel"]
