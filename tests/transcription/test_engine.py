"""The Vosk engine, exercised with the real Korean test model."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

import pytest

from transcription import engine as engine_module
from transcription.audio import NormalizedAudio, normalize_file
from transcription.chinese import TranscriptResult
from transcription.engine import (
    DEFAULT_MODEL_NAME,
    ModelNotFound,
    VoskEngine,
    get_engine,
    model_problems,
    preload,
    resolve_model_path,
)


@pytest.fixture(scope="module")
def speech_audio(speech) -> NormalizedAudio:
    return normalize_file(speech.pcm8k)


@pytest.fixture(scope="module")
def transcript(ko_engine: VoskEngine, speech_audio: NormalizedAudio) -> TranscriptResult:
    return ko_engine.transcribe(speech_audio)


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> dict:
    cache: dict = {}
    monkeypatch.setattr(engine_module, "_engines", cache)
    return cache


# Single words espeak-ng's Korean voice says and the small Korean test model recognises,
# the same on every run and at every speaking rate tried from 80 to 155 words a minute
# (longer phrases come out garbled: the voice is synthetic, the model small).
RECOGNISED_WORDS = ["오", "네"]


@pytest.mark.parametrize("word", RECOGNISED_WORDS)
def test_recognises_what_was_said_word_for_word(ko_engine: VoskEngine, word: str,
                                                tmp_path: Path) -> None:
    source, phone = tmp_path / "source.wav", tmp_path / "phone.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "110", "-w", str(source), word],
                   check=True, capture_output=True, timeout=60)
    # As a voicemail arrives: 8 kHz mono PCM, then the pipeline's own normalisation.
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-ar", "8000", "-ac", "1",
                    "-acodec", "pcm_s16le", str(phone)], check=True, capture_output=True,
                   timeout=60)
    audio = normalize_file(phone)
    first, second = ko_engine.transcribe(audio), ko_engine.transcribe(audio)
    assert first.text == word
    assert [w.word for w in first.words] == [word]
    assert second.text == first.text


def test_speech_gives_words(transcript: TranscriptResult) -> None:
    assert transcript.words
    assert not transcript.is_empty
    assert transcript.text.strip()


def test_word_times_are_ordered_and_within_the_audio(
    transcript: TranscriptResult, speech_audio: NormalizedAudio
) -> None:
    previous_start = 0.0
    for word in transcript.words:
        assert previous_start <= word.start <= word.end <= speech_audio.duration
        previous_start = word.start


def test_word_confidences_are_probabilities(transcript: TranscriptResult) -> None:
    assert all(0.0 <= w.conf <= 1.0 for w in transcript.words)
    assert 0.0 < transcript.confidence <= 1.0


def test_transcript_records_model_duration_and_rtf(
    transcript: TranscriptResult, speech_audio: NormalizedAudio, ko_model_dir: Path
) -> None:
    assert transcript.model_name == ko_model_dir.name
    assert transcript.duration == speech_audio.duration
    assert transcript.rtf > 0


def test_silence_is_an_empty_transcript(ko_engine: VoskEngine, silence_wav: Path) -> None:
    transcript = ko_engine.transcribe(normalize_file(silence_wav))
    assert transcript.is_empty
    assert transcript.text == ""
    assert transcript.confidence == 0.0


def test_transcribe_refuses_audio_at_another_rate(ko_engine: VoskEngine) -> None:
    audio = NormalizedAudio(pcm=b"\x00" * 1600, sample_rate=8000, duration=0.1, source_format="x")
    with pytest.raises(ValueError, match="16000"):
        ko_engine.transcribe(audio)


def test_engine_records_its_load_time(ko_engine: VoskEngine) -> None:
    assert ko_engine.load_seconds > 0


def test_get_engine_returns_the_cached_engine(ko_engine: VoskEngine, ko_model_dir: Path) -> None:
    assert get_engine(ko_model_dir) is ko_engine


def test_missing_model_directory_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        VoskEngine.load(tmp_path / "vosk-model-small-cn-0.22")


def test_directory_without_model_files_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"am/final\.mdl is missing"):
        VoskEngine.load(tmp_path)


def test_model_files_vosk_cannot_read_are_model_not_found(tmp_path: Path) -> None:
    for name in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLr.fst"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("not a model\n")
    assert model_problems(tmp_path) == []
    with pytest.raises(ModelNotFound, match="Vosk could not load it"):
        VoskEngine.load(tmp_path)


def test_the_ko_model_looks_like_a_model(ko_model_dir: Path) -> None:
    assert model_problems(ko_model_dir) == []


def test_get_engine_loads_once_across_threads(
    fresh_cache: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    loads: list[Path] = []

    def slow_load(path: Path) -> VoskEngine:
        loads.append(path)
        time.sleep(0.05)  # long enough for every thread to be waiting
        return VoskEngine(path=path, model_name=path.name, load_seconds=0.05, model=object())

    monkeypatch.setattr(VoskEngine, "load", staticmethod(slow_load))
    got: list[VoskEngine] = []
    threads = [threading.Thread(target=lambda: got.append(get_engine(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len({id(e) for e in got}) == 1


def test_failed_load_is_not_cached(fresh_cache: dict, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        get_engine(tmp_path / "missing")
    assert fresh_cache == {}


def test_preload_without_a_model_warns_and_returns_none(
    fresh_cache: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="transcription.engine"):
        assert preload(tmp_path / "missing") is None
    assert "no usable Vosk model" in caplog.text


def test_resolve_model_path_defaults_to_the_small_chinese_model(tmp_path: Path) -> None:
    expected = tmp_path / "models" / DEFAULT_MODEL_NAME
    assert resolve_model_path(None, tmp_path) == expected
    assert resolve_model_path("", tmp_path) == expected


def test_resolve_model_path_keeps_absolute_paths(tmp_path: Path) -> None:
    assert resolve_model_path("/srv/models/cn", tmp_path) == Path("/srv/models/cn")


def test_resolve_model_path_takes_relative_paths_from_the_instance(tmp_path: Path) -> None:
    assert resolve_model_path("models/cn", tmp_path) == tmp_path / "models" / "cn"
