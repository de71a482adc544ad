"""Hold music, made by the app itself: a quiet pentatonic tune, 8 kHz mono PCM WAV.

Nothing is downloaded at run time and no audio file is kept in the repository: the tune is
synthesised from the notes below (deterministically, about a tenth of a second) the first
time it is asked for and kept in memory. Twilio plays it between the queue's
announcements and caches it (``Cache-Control``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import struct
import wave

RATE = 8000
SECONDS = 28
# A slow melody (MIDI note numbers, one per beat) over a soft drone; repeated to length.
MELODY = (69, 72, 74, 76, 74, 72, 69, 67, 69, 72, 76, 79, 76, 74, 72, 74)
BEAT = 0.875  # seconds
DRONE = (45, 52)


def _frequency(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


@functools.cache
def hold_wav() -> bytes:
    """The hold tune as WAV bytes (the same bytes every time)."""
    samples = []
    beat_samples = int(BEAT * RATE)
    total = SECONDS * RATE
    drones = [_frequency(n) for n in DRONE]
    for i in range(total):
        t = i / RATE
        note = MELODY[(i // beat_samples) % len(MELODY)]
        into = (i % beat_samples) / beat_samples
        envelope = min(1.0, into * 12) * math.exp(-3.2 * into)  # soft attack, gentle decay
        tone = math.sin(2 * math.pi * _frequency(note) * t) * envelope
        pad = sum(math.sin(2 * math.pi * f * t) for f in drones) * 0.12
        fade = min(1.0, i / RATE, (total - i) / RATE)  # no click where the loop restarts
        samples.append(int(5000 * (tone * 0.8 + pad) * fade))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()


@functools.cache
def hold_etag() -> str:
    return hashlib.sha256(hold_wav()).hexdigest()[:20]
