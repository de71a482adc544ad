"""Audio normalisation: every supported format → 16 kHz mono 16-bit PCM, bad bytes refused."""

from __future__ import annotations

import random
import struct
import warnings
import wave
from pathlib import Path

import pytest

from transcription import audio
from transcription.audio import (
    DecoderUnavailable,
    NormalizedAudio,
    UnreadableAudio,
    detect_format,
    normalize,
    normalize_file,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

FORMATS = ["source", "pcm8k", "mulaw8k", "mp3", "flac", "stereo44k"]


def _wav_header_fields(data: bytes) -> tuple[int, int]:
    """Offsets of the RIFF size field and the data chunk size field."""
    return 4, data.index(b"data") + 4


def _no_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio.shutil, "which", lambda _name: None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_normalize_keeps_the_duration_of_each_format(speech, fmt: str) -> None:
    result = normalize_file(getattr(speech, fmt))
    assert result.duration == pytest.approx(speech.duration, abs=0.1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_normalize_outputs_16khz_mono_16bit(speech, fmt: str) -> None:
    result = normalize_file(getattr(speech, fmt))
    assert result.sample_rate == 16000
    # 2 bytes per sample, one channel: the byte count must match the duration exactly.
    assert len(result.pcm) == round(result.duration * 16000) * 2


@pytest.mark.parametrize(
    ("fmt", "label"),
    [("pcm8k", "wav-pcm"), ("mulaw8k", "wav-mulaw"), ("mp3", "mp3"), ("flac", "flac")],
)
def test_source_format_is_detected_from_the_bytes(speech, fmt: str, label: str) -> None:
    data = getattr(speech, fmt).read_bytes()
    # A misleading hint must not win over the magic bytes.
    result = normalize(data, filename_hint="recording.ogg", content_type="audio/ogg")
    assert result.source_format == label


def test_mulaw_decodes_to_the_same_signal_as_pcm(speech) -> None:
    pcm = normalize_file(speech.pcm8k).pcm
    mulaw = normalize_file(speech.mulaw8k).pcm
    assert len(pcm) == len(mulaw)
    difference = audioop.add(pcm, audioop.mul(mulaw, 2, -1), 2)
    # μ-law quantisation noise is about -38 dB; μ-law bytes misread as PCM are not close.
    assert audioop.rms(difference, 2) < 0.1 * audioop.rms(pcm, 2)


def test_stereo_is_mixed_down_not_interleaved(speech, tmp_path: Path) -> None:
    with wave.open(str(speech.pcm8k), "rb") as source:
        frames = source.readframes(source.getnframes())
    stereo_path = tmp_path / "stereo.wav"
    with wave.open(str(stereo_path), "wb") as stereo:
        stereo.setnchannels(2)
        stereo.setsampwidth(2)
        stereo.setframerate(8000)
        stereo.writeframes(audioop.tostereo(frames, 2, 1, 1))
    # Both channels equal: the mix must be the mono signal itself, not twice as long.
    assert normalize_file(stereo_path).pcm == normalize_file(speech.pcm8k).pcm


def test_pcm_and_mulaw_wav_need_no_ffmpeg(speech, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_ffmpeg(monkeypatch)
    assert normalize_file(speech.pcm8k).duration == pytest.approx(speech.duration, abs=0.1)
    assert normalize_file(speech.mulaw8k).duration == pytest.approx(speech.duration, abs=0.1)


def test_mp3_without_ffmpeg_is_decoder_unavailable(speech, monkeypatch) -> None:
    _no_ffmpeg(monkeypatch)
    with pytest.raises(DecoderUnavailable, match="ffmpeg"):
        normalize_file(speech.mp3)


def test_streamed_wav_with_unknown_sizes_is_read_to_the_end(speech) -> None:
    data = bytearray(speech.pcm8k.read_bytes())
    for offset in _wav_header_fields(bytes(data)):
        struct.pack_into("<I", data, offset, 0xFFFFFFFF)
    result = normalize(bytes(data))
    assert result.duration == pytest.approx(speech.duration, abs=0.1)


def test_odd_sized_chunks_are_padded(speech) -> None:
    data = speech.pcm8k.read_bytes()
    data_at = data.index(b"data")
    odd_chunk = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\x00"  # pad byte after odd size
    patched = data[:data_at] + odd_chunk + data[data_at:]
    assert normalize(patched).pcm == normalize(data).pcm


def test_unsigned_8bit_silence_becomes_zero_samples() -> None:
    frames = b"\x80" * 800
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 800)
    data = b"RIFF" + struct.pack("<I", len(body) + len(frames)) + body + frames
    result = normalize(data)
    assert result.pcm == b"\x00" * len(result.pcm)
    assert result.duration == pytest.approx(0.1, abs=0.001)


def test_normalized_audio_repr_does_not_dump_samples(speech) -> None:
    result = normalize_file(speech.pcm8k)
    assert isinstance(result, NormalizedAudio)
    assert len(repr(result)) < 200


def test_empty_bytes_are_unreadable() -> None:
    with pytest.raises(UnreadableAudio, match="empty"):
        normalize(b"")


def test_garbage_bytes_are_unreadable() -> None:
    with pytest.raises(UnreadableAudio):
        normalize(b"this is certainly not audio\n" * 200, content_type="audio/wav")


def test_unrecognised_bytes_never_reach_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoder(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("ffmpeg must not be asked to guess a format")

    monkeypatch.setattr(audio, "_decode_with_ffmpeg", no_decoder)
    playlist = b"#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/secret\n"
    with pytest.raises(UnreadableAudio, match=r"not a recognised audio format \(claimed"):
        normalize(playlist, content_type="audio/x-mpegurl")


def test_truncated_wav_header_is_unreadable(speech) -> None:
    with pytest.raises(UnreadableAudio, match="truncated"):
        normalize(speech.pcm8k.read_bytes()[:30])


def test_wav_truncated_in_the_data_is_unreadable(speech) -> None:
    data = speech.pcm8k.read_bytes()
    with pytest.raises(UnreadableAudio, match="truncated"):
        normalize(data[: len(data) // 2])


def test_wav_with_no_samples_is_unreadable(speech) -> None:
    data = bytearray(speech.pcm8k.read_bytes())
    _, size_at = _wav_header_fields(bytes(data))
    struct.pack_into("<I", data, size_at, 0)
    with pytest.raises(UnreadableAudio, match="no audio samples"):
        normalize(bytes(data[: size_at + 4]))


def test_truncated_mp3_is_unreadable(speech) -> None:
    with pytest.raises(UnreadableAudio):
        normalize(speech.mp3.read_bytes()[:200])


def test_garbage_after_a_riff_header_is_unreadable() -> None:
    with pytest.raises(UnreadableAudio):
        normalize(b"RIFF\x24\x00\x00\x00WAVE" + bytes(range(256)) * 4)


def test_damaged_files_raise_only_unreadable_audio(speech) -> None:
    rng = random.Random(8718)
    originals = [speech.pcm8k.read_bytes(), speech.mulaw8k.read_bytes(), speech.mp3.read_bytes()]
    for original in originals:
        for _ in range(6):
            damaged = bytearray(original[: rng.randrange(1, 400)])
            for _ in range(rng.randrange(1, 8)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            try:
                result = normalize(bytes(damaged))
            except UnreadableAudio:
                continue
            assert result.sample_rate == 16000


def test_detect_format_tells_mpeg_audio_from_adts_aac() -> None:
    assert detect_format(b"\xff\xfb\x90\x00") == "mp3"
    assert detect_format(b"\xff\xf1\x50\x80") == "aac"
    assert detect_format(b"ID3\x04\x00") == "mp3"
    assert detect_format(b"nothing known") is None


def test_normalize_file_of_a_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        normalize_file(tmp_path / "missing.wav")
