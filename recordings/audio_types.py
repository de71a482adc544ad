"""Which audio format a recording is, decided from its bytes, never from a URL or header.

A media host (or an attacker who can point a callback at one) chooses the URL and the
Content-Type; the stored extension and the MIME type the console serves must not follow
them, or a page served from the console's origin could carry a script.
"""

from __future__ import annotations

# The extensions recordings may be stored under, and the only MIME types they are served as.
AUDIO_MIME_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "amr": "audio/amr",
    "webm": "audio/webm",
    "au": "audio/basic",
    "aiff": "audio/aiff",
}
# Enough leading bytes to recognise every format above.
SNIFF_BYTES = 64


def sniff_audio_extension(head: bytes) -> str | None:
    """The audio extension for a file starting with ``head``, or None if it is not audio."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:6] == b"#!AMR\n" or head[:9] == b"#!AMR-WB\n":
        return "amr"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: sync word, layer bits 00
            return "aac"
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync, layer I–III
            return "mp3"
    return None


def audio_mime_type(key: str) -> str | None:
    """The MIME type to serve a stored key with, or None when its extension is not audio."""
    _, dot, extension = key.rpartition(".")
    return AUDIO_MIME_TYPES.get(extension.lower()) if dot else None
