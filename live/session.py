"""One media stream, decoded and told as it goes: partial and final utterances, suggestions.

Sans-IO: the WebSocket server (``live.server``) hands each parsed message to
:meth:`StreamSession.handle` (in a worker thread: decoding takes CPU) and calls
:meth:`StreamSession.end` when the stream stops or is cut. Whatever is said is published on
the call's channel (``live.bus``); what the caller said also brings knowledge-base articles
and the fields of ``extraction`` for the case form.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from live.decoder import TrackDecoder, Utterance
from live.protocol import Media, Message, Start, Stop

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], object]
# Suggestions for what the caller said so far: {"articles": [...], "fields": {...}}.
Assist = Callable[[str], dict[str, Any]]
Clock = Callable[[], datetime]


@dataclass
class TrackLog:
    finals: list[Utterance] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(u.text for u in self.finals)


@dataclass
class StreamResult:
    call_sid: str
    stream_sid: str
    tracks: dict[str, TrackLog]
    complete: bool
    started_at: datetime
    ended_at: datetime


class StreamSession:
    def __init__(self, model: Any, *, publish: Publish, channel: Callable[[str], str],
                 clock: Clock, assist: Assist | None = None) -> None:
        self.model = model
        self.publish = publish
        self.channel = channel
        self.clock = clock
        self.assist = assist
        self.start: Start | None = None
        self.decoders: dict[str, TrackDecoder] = {}
        self.logs: dict[str, TrackLog] = {}
        self.started_at = clock()
        self.ended = False
        self.result: StreamResult | None = None
        # Seconds from a media frame's arrival to the partial it produced (benchmark).
        self.latencies: list[float] = []

    @property
    def call_sid(self) -> str | None:
        return self.start.call_sid if self.start else None

    def handle(self, message: Message, received_at: float | None = None) -> None:
        if isinstance(message, Start):
            self.start = message
            self.decoders = {t: TrackDecoder(self.model, t) for t in message.tracks}
            self.logs = {t: TrackLog() for t in message.tracks}
            self._tell({"kind": "started", "tracks": list(message.tracks)})
        elif isinstance(message, Media):
            decoder = self.decoders.get(message.track)
            if decoder is None:
                return  # media before start, or of a track not announced: ignored
            self._heard(decoder.feed(message.payload), received_at)
        elif isinstance(message, Stop):
            self.end(complete=True)

    def end(self, *, complete: bool) -> StreamResult | None:
        """Flush every track; returns what was said (None if the stream never started)."""
        if self.ended or self.start is None:
            self.ended = True
            return None
        self.ended = True
        for decoder in self.decoders.values():
            self._heard(decoder.finish(), None)
        self._tell({"kind": "ended", "complete": complete})
        self.result = StreamResult(self.start.call_sid, self.start.stream_sid, self.logs,
                                   complete, self.started_at, self.clock())
        return self.result

    def _tell(self, payload: dict[str, Any]) -> None:
        if self.start is not None:
            self.publish(self.channel(self.start.call_sid),
                         {"type": "live_transcript", "stream": self.start.stream_sid, **payload})

    def _heard(self, utterances: list[Utterance], received_at: float | None) -> None:
        for utterance in utterances:
            if received_at is not None:
                self.latencies.append(time.perf_counter() - received_at)
            if utterance.final:
                self.logs[utterance.track].finals.append(utterance)
            self._tell({"kind": "final" if utterance.final else "partial",
                        "track": utterance.track, "text": utterance.text})
            if utterance.final and utterance.track == "inbound" and self.assist is not None:
                try:
                    suggestions = self.assist(self.logs["inbound"].text)
                except Exception:  # suggestions help; they must never end the stream
                    log.exception("live suggestions failed for %s", self.call_sid)
                    continue
                self._tell({"kind": "assist", **suggestions})
