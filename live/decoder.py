"""One track of a call decoded as it arrives: μ-law 8 kHz → 16 kHz PCM → a Vosk recognizer.

Twilio sends 20 ms frames; they are gathered into 100 ms chunks before Vosk sees them (fewer
calls, the same words). A partial result is reported when its text changes, a final one when
Vosk ends an utterance (a pause) and at the end of the stream.
"""

from __future__ import annotations

import audioop
import json
from dataclasses import dataclass
from typing import Any

from transcription.chinese import join_words

SOURCE_RATE = 8000
TARGET_RATE = 16000
CHUNK_MS = 100
_CHUNK_BYTES = SOURCE_RATE * CHUNK_MS // 1000  # μ-law: one byte per sample


@dataclass(frozen=True)
class Utterance:
    track: str
    text: str
    final: bool
    start: float | None = None  # seconds into the stream (finals only)
    end: float | None = None


def _text(result: dict[str, Any]) -> str:
    words = [w.get("word", "") for w in result.get("result") or []]
    if words:
        return join_words(words)
    raw = str(result.get("text") or result.get("partial") or "")
    return join_words(raw.split())


class TrackDecoder:
    """Feed μ-law bytes with :meth:`feed`; :meth:`finish` flushes the last utterance."""

    def __init__(self, model: Any, track: str) -> None:
        import vosk  # loaded with the model already; imported here to keep imports light

        self.track = track
        self.recognizer = vosk.KaldiRecognizer(model, float(TARGET_RATE))
        self.recognizer.SetWords(True)
        self._pending = b""
        self._state: Any = None
        self._last_partial = ""
        self.seconds = 0.0

    def _decode(self, mulaw: bytes) -> list[Utterance]:
        pcm = audioop.ulaw2lin(mulaw, 2)
        pcm, self._state = audioop.ratecv(pcm, 2, 1, SOURCE_RATE, TARGET_RATE, self._state)
        self.seconds += len(mulaw) / SOURCE_RATE
        found: list[Utterance] = []
        if self.recognizer.AcceptWaveform(pcm):
            result = json.loads(self.recognizer.Result())
            text = _text(result)
            self._last_partial = ""
            if text:
                words = result.get("result") or []
                found.append(Utterance(self.track, text, True,
                                       words[0].get("start") if words else None,
                                       words[-1].get("end") if words else None))
        else:
            partial = _text(json.loads(self.recognizer.PartialResult()))
            if partial and partial != self._last_partial:
                self._last_partial = partial
                found.append(Utterance(self.track, partial, False))
        return found

    def feed(self, mulaw: bytes) -> list[Utterance]:
        self._pending += mulaw
        found: list[Utterance] = []
        while len(self._pending) >= _CHUNK_BYTES:
            chunk, self._pending = self._pending[:_CHUNK_BYTES], self._pending[_CHUNK_BYTES:]
            found.extend(self._decode(chunk))
        return found

    def finish(self) -> list[Utterance]:
        found = self._decode(self._pending) if self._pending else []
        self._pending = b""
        result = json.loads(self.recognizer.FinalResult())
        text = _text(result)
        if text:
            words = result.get("result") or []
            found.append(Utterance(self.track, text, True,
                                   words[0].get("start") if words else None,
                                   words[-1].get("end") if words else None))
        return found
