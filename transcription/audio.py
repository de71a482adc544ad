"""Audio normalisation: turn a recording of any supported format into Vosk input.

Vosk's small models only accept the sample rate they were trained on, so every
recording is converted to 16 kHz, mono, 16-bit little-endian PCM before decoding
(docs/decisions.md §4). WAV (PCM, μ-law, A-law) is decoded in-process so that Twilio's
recordings never depend on ffmpeg; other formats go through pydub + ffmpeg.
"""

from __future__ import annotations

import io
import shutil
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydub import AudioSegment

TARGET_RATE = 16000
TARGET_SAMPLE_WIDTH = 2
TARGET_CHANNELS = 1

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_ALAW = 0x0006
_WAVE_FORMAT_MULAW = 0x0007
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# Writers that stream to a pipe cannot seek back to fill in sizes and leave these.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
_WAV_LABELS = {
    _WAVE_FORMAT_PCM: "wav-pcm",
    _WAVE_FORMAT_MULAW: "wav-mulaw",
    _WAVE_FORMAT_ALAW: "wav-alaw",
    0x0003: "wav-float",
}
_MAX_REASON_CHARS = 200
# detect_format() name → ffmpeg demuxer name.
_FFMPEG_DEMUXERS = {
    "wav": "wav",
    "rf64": "wav",
    "mp3": "mp3",
    "aac": "aac",
    "ogg": "ogg",
    "flac": "flac",
    "amr": "amr",
    "webm": "webm",
    "au": "au",
    "mp4": "mp4",
    "aiff": "aiff",
}


class AudioError(Exception):
    """Base class for errors raised while normalising audio."""


class UnreadableAudio(AudioError):
    """The bytes are not audio we can decode (garbage, empty, truncated, unsupported)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"unreadable audio: {reason}")
        self.reason = reason


class DecoderUnavailable(AudioError):
    """The audio may be fine, but decoding it needs a tool that is not installed.

    Kept apart from UnreadableAudio so callers can keep the recording and retry once
    the tool is installed, instead of marking it as broken.
    """

    def __init__(self, source_format: str, tool: str) -> None:
        super().__init__(f"decoding {source_format} audio needs {tool}, which is not installed")
        self.source_format = source_format
        self.tool = tool


@dataclass(frozen=True, kw_only=True)
class NormalizedAudio:
    """16 kHz mono 16-bit little-endian PCM ready for a Vosk recognizer."""

    pcm: bytes = field(repr=False)
    sample_rate: int = TARGET_RATE
    duration: float
    source_format: str


@dataclass(frozen=True)
class _WavFormat:
    format_tag: int
    channels: int
    sample_rate: int
    bits_per_sample: int
    block_align: int


def normalize(
    data: bytes, *, filename_hint: str | None = None, content_type: str | None = None
) -> NormalizedAudio:
    """Decode ``data`` and convert it to 16 kHz mono 16-bit PCM.

    The format is detected from the bytes themselves (magic numbers); ``filename_hint``
    and ``content_type`` only make the error for unrecognised bytes clearer.
    Raises UnreadableAudio for bytes that are not decodable audio and
    DecoderUnavailable when ffmpeg would be needed but is missing.
    """
    if not data:
        raise UnreadableAudio("the file is empty (0 bytes)")
    detected = detect_format(data)
    if detected is None:
        # Never let ffmpeg guess: its probing accepts playlists and other formats that
        # open further files or URLs, which untrusted bytes must not be able to do.
        claimed = _format_from_hints(filename_hint, content_type)
        suffix = f" (claimed to be {claimed})" if claimed else ""
        raise UnreadableAudio(f"not a recognised audio format{suffix}")
    if detected == "wav":
        segment, source_format = _decode_wav(data)
    else:
        source_format = detected
        segment = _decode_with_ffmpeg(data, detected, source_format)
    return _to_target(segment, source_format)


def normalize_file(path: Path) -> NormalizedAudio:
    """Normalise the audio file at ``path`` (OSError propagates for missing files)."""
    return normalize(path.read_bytes(), filename_hint=path.name)


def detect_format(data: bytes) -> str | None:
    """Name the container from its magic bytes, or None when it is not recognised."""
    head = data[:12]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # Layer bits 00 are reserved in MPEG audio; ADTS AAC reuses the sync word with them.
        return "aac" if (head[1] >> 1) & 0x03 == 0 else "mp3"
    signatures = {
        b"OggS": "ogg",
        b"fLaC": "flac",
        b"#!AM": "amr",
        b"\x1aE\xdf\xa3": "webm",
        b".snd": "au",
        b"RF64": "rf64",
    }
    if head[:4] in signatures:
        return signatures[head[:4]]
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    return None


def _format_from_hints(filename_hint: str | None, content_type: str | None) -> str | None:
    if filename_hint and "." in filename_hint:
        return filename_hint.rsplit(".", 1)[1].lower() or None
    if content_type:
        subtype = content_type.split(";", 1)[0].strip().lower().rpartition("/")[2]
        return subtype.removeprefix("x-") or None
    return None


def _audioop() -> ModuleType:
    # audioop is deprecated since 3.11 (removed in 3.13, where pydub needs audioop-lts);
    # import it lazily and quietly so the warning does not leak into every log.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    return audioop


def _audio_segment() -> type[AudioSegment]:
    # pydub scans PATH for ffmpeg and warns when it is missing at import: defer that
    # until audio is actually processed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment
    return AudioSegment


def _parse_wav(data: bytes) -> tuple[_WavFormat, bytes]:
    """Return the format and the whole frames of the data chunk of a RIFF/WAVE file."""
    riff_size = struct.unpack_from("<I", data, 4)[0]
    fmt: _WavFormat | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        start = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or start + size > len(data):
                raise UnreadableAudio("truncated WAV: the 'fmt ' chunk is incomplete")
            fmt = _parse_fmt(data[start : start + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise UnreadableAudio("malformed WAV: 'data' chunk before the 'fmt ' chunk")
            available = len(data) - start
            if size == 0xFFFFFFFF or (size == 0 and riff_size in _UNKNOWN_SIZES):
                size = available
            elif size > available:
                raise UnreadableAudio(
                    f"truncated WAV: the data chunk declares {size} bytes "
                    f"but only {available} are present"
                )
            whole = size - size % fmt.block_align
            return fmt, data[start : start + whole]
        # RIFF chunks are word-aligned: odd-sized chunks carry a pad byte.
        pos = start + size + (size & 1)
    if fmt is None:
        raise UnreadableAudio("truncated or malformed WAV: no 'fmt ' chunk")
    raise UnreadableAudio("truncated or malformed WAV: no 'data' chunk")


def _parse_fmt(chunk: bytes) -> _WavFormat:
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", chunk)
    if tag == _WAVE_FORMAT_EXTENSIBLE and len(chunk) >= 26:
        # The real format is the first two bytes of the SubFormat GUID.
        tag = struct.unpack_from("<H", chunk, 24)[0]
    if channels == 0 or rate == 0 or block_align == 0:
        raise UnreadableAudio(
            f"malformed WAV header (channels={channels}, rate={rate}, block_align={block_align})"
        )
    return _WavFormat(tag, channels, rate, bits, block_align)


def _decode_wav(data: bytes) -> tuple[AudioSegment, str]:
    """Decode a RIFF/WAVE file; returns the segment and a label such as ``wav-mulaw``."""
    if len(data) < 12:
        raise UnreadableAudio("truncated WAV: the header is incomplete")
    fmt, frames = _parse_wav(data)
    label = _WAV_LABELS.get(fmt.format_tag, f"wav-0x{fmt.format_tag:04x}")
    if not frames:
        raise UnreadableAudio("the WAV file contains no audio samples")
    audioop = _audioop()
    segment_cls = _audio_segment()
    if fmt.format_tag in (_WAVE_FORMAT_MULAW, _WAVE_FORMAT_ALAW):
        # pydub only reads PCM WAV by itself (anything else goes to ffmpeg); G.711 is a
        # per-byte table lookup, which audioop does exactly.
        if fmt.bits_per_sample != 8:
            raise UnreadableAudio(f"G.711 WAV with {fmt.bits_per_sample} bits per sample")
        expand = audioop.ulaw2lin if fmt.format_tag == _WAVE_FORMAT_MULAW else audioop.alaw2lin
        segment = segment_cls(
            data=expand(frames, 2),
            sample_width=2,
            frame_rate=fmt.sample_rate,
            channels=fmt.channels,
        )
        return segment, label
    if fmt.format_tag == _WAVE_FORMAT_PCM:
        if fmt.bits_per_sample not in (8, 16, 24, 32):
            raise UnreadableAudio(f"PCM WAV with {fmt.bits_per_sample} bits per sample")
        width = fmt.bits_per_sample // 8
        if fmt.block_align != width * fmt.channels:
            raise UnreadableAudio("malformed WAV header: block alignment does not match")
        if width == 1:
            frames = audioop.bias(frames, 1, -128)  # 8-bit WAV is unsigned
        segment = segment_cls(
            data=frames, sample_width=width, frame_rate=fmt.sample_rate, channels=fmt.channels
        )
        return segment, label
    # Float, ADPCM, GSM …: ffmpeg knows them all.
    return _decode_with_ffmpeg(data, "wav", label), label


def _decode_with_ffmpeg(data: bytes, detected: str, source_format: str) -> AudioSegment:
    """Decode a container identified by its magic bytes with ffmpeg (via pydub)."""
    segment_cls = _audio_segment()
    if not shutil.which(segment_cls.converter):
        raise DecoderUnavailable(source_format, "ffmpeg")
    # Naming the decoder spares pydub an ffprobe run; only plain MP3 is certain enough.
    codec = "mp3" if detected == "mp3" and _mpeg_layer(data) in (None, 3) else None
    if codec is None and not (shutil.which("ffprobe") or shutil.which("avprobe")):
        raise DecoderUnavailable(source_format, "ffprobe")
    demuxer = _FFMPEG_DEMUXERS[detected]  # explicit, so ffmpeg does not probe
    try:
        return segment_cls.from_file(io.BytesIO(data), format=demuxer, codec=codec)
    except Exception as exc:  # pydub raises many types (CouldntDecode, KeyError, IndexError …)
        raise UnreadableAudio(_decoder_reason(source_format, exc)) from exc


def _mpeg_layer(data: bytes) -> int | None:
    """Layer (1–3) of the first MPEG frame header, or None if an ID3 tag comes first."""
    if data[:1] != b"\xff" or len(data) < 2:
        return None
    return {1: 3, 2: 2, 3: 1}.get((data[1] >> 1) & 0x03)


def _decoder_reason(source_format: str, exc: Exception) -> str:
    # ffmpeg's last stderr line names the actual problem ("Invalid data found …").
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = lines[-1] if lines else type(exc).__name__
    reason = f"could not decode {source_format} data: {detail}"
    return reason[:_MAX_REASON_CHARS]


def _to_target(segment: AudioSegment, source_format: str) -> NormalizedAudio:
    if segment.frame_count() == 0:
        raise UnreadableAudio(f"the {source_format} file contains no audio samples")
    # Width first so 8-bit input is not resampled at 8-bit precision; mono before
    # resampling halves the work for stereo input.
    converted = (
        segment.set_sample_width(TARGET_SAMPLE_WIDTH)
        .set_channels(TARGET_CHANNELS)
        .set_frame_rate(TARGET_RATE)
    )
    pcm = converted.raw_data
    return NormalizedAudio(
        pcm=pcm,
        sample_rate=TARGET_RATE,
        duration=len(pcm) / (TARGET_RATE * TARGET_SAMPLE_WIDTH * TARGET_CHANNELS),
        source_format=source_format,
    )
