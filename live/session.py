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
    def __init__(self, model: Any, *, publish: Publish,
                 channels: Callable[[str, dict[str, str]], list[str]],
                 clock: Clock, assist: Assist | None = None) -> None:
        self.model = model
        self.publish = publish
        self.channels = channels
        self.targets: list[str] = []
        self.clock = clock
        self.assist = assist
        self.start: Start | None = None
        self.decoders: dict[str, TrackDecoder] = {}
        self.logs: dict[str, TrackLog] = {}
        self.started_at = clock()
        self.ended = False
        self.result: StreamResult | None = None
        # Seconds from a media frame's arrival to the partial it produced, and seconds spent
        # decoding, against seconds of audio (benchmarks/live_speech.py).
        self.latencies: list[float] = []
        self.decode_seconds = 0.0
        self.audio_seconds = 0.0

    @property
    def call_sid(self) -> str | None:
        """The caller's call: the stream's own, or the caller's when it is an operator's
        leg (``caller_call_sid``)."""
        if self.start is None:
            return None
        return self.start.parameters.get("caller_call_sid") or self.start.call_sid

    def handle(self, message: Message, received_at: float | None = None) -> None:
        if isinstance(message, Start):
            self.start = message
            # "inbound" is always the caller: on an operator's leg, Twilio's inbound track is
            # the operator speaking.
            swap = message.parameters.get("leg") == "operator"
            names = {"inbound": "outbound", "outbound": "inbound"} if swap else {}
            self.decoders = {t: TrackDecoder(self.model, names.get(t, t))
                             for t in message.tracks}
            self.logs = {names.get(t, t): TrackLog() for t in message.tracks}
            self.targets = self.channels(self.call_sid or message.call_sid, message.parameters)
            self._tell({"kind": "started", "tracks": list(message.tracks)})
        elif isinstance(message, Media):
            decoder = self.decoders.get(message.track)
            if decoder is None:
                return  # media before start, or of a track not announced: ignored
            began = time.perf_counter()
            heard = decoder.feed(message.payload)
            self.decode_seconds += time.perf_counter() - began
            self.audio_seconds += len(message.payload) / 8000
            self._heard(heard, received_at)
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
        self.result = StreamResult(self.call_sid or self.start.call_sid, self.start.stream_sid,
                                   self.logs, complete, self.started_at, self.clock())
        return self.result

    def _tell(self, payload: dict[str, Any]) -> None:
        if self.start is None:
            return
        event = {"type": "live_transcript", "stream": self.start.stream_sid,
                 "call_sid": self.call_sid, **payload}
        for channel in self.targets:
            self.publish(channel, event)

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
