"""The Vosk speech-recognition engine: one loaded model per process, one recognizer per decode.

A model costs seconds and hundreds of MB to load, so it is loaded once per process
(``get_engine``) and, in RQ workers, before forking (``preload``) so that work-horses
share it copy-on-write (docs/decisions.md §4). Recognizers are cheap and never shared.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from transcription.audio import TARGET_RATE, NormalizedAudio
from transcription.chinese import TranscriptResult, build_transcript

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "vosk-model-small-cn-0.22"
# 0.25 s of 16 kHz 16-bit audio. Measured on the ko model: 4 000–32 000-byte chunks
# decode equally fast (RTF ≈ 0.33), so keep utterances short and memory flat.
CHUNK_BYTES = 8000


class ModelNotFound(Exception):
    """No usable Vosk model at the configured path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"no usable Vosk model at {path}: {reason}. Install one with the model "
            f"installer (from a URL or a local zip) or set VOSK_MODEL_PATH."
        )
        self.path = path
        self.reason = reason


class DecodeError(Exception):
    """Vosk failed while decoding audio that had been normalised successfully."""


def _vosk() -> ModuleType:
    # Importing vosk loads libvosk and pulls in requests/tqdm/srt: only when needed.
    import vosk

    return vosk


def model_problems(path: Path) -> list[str]:
    """Why ``path`` does not look like a Vosk model directory (empty list: looks fine).

    Checked before handing the path to Vosk, whose own failure is an uninformative
    "Failed to create a model" after pages of Kaldi log.
    """
    if not path.exists():
        return ["the directory does not exist"]
    if not path.is_dir():
        return ["the path is not a directory"]
    problems: list[str] = []
    # Current layout keeps files in am/, conf/, graph/; old models keep them at the top.
    if (path / "final.mdl").is_file() and not (path / "am").is_dir():
        required = ["mfcc.conf"]
    else:
        required = ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf"]
    problems.extend(f"{name} is missing" for name in required if not (path / name).is_file())
    graphs = [
        path / "graph" / "HCLG.fst",
        path / "HCLG.fst",
        path / "graph" / "HCLr.fst",
        path / "HCLr.fst",
    ]
    if not any(g.is_file() for g in graphs):
        problems.append("the decoding graph (graph/HCLG.fst or graph/HCLr.fst) is missing")
    return problems


@dataclass(frozen=True, eq=False)
class VoskEngine:
    """A loaded Vosk model that decodes NormalizedAudio into transcripts."""

    path: Path
    model_name: str
    load_seconds: float
    model: Any  # vosk.Model; typed loosely because vosk ships no type information

    @classmethod
    def load(cls, path: Path) -> VoskEngine:
        """Load the model at ``path``; raises ModelNotFound if it is missing or invalid."""
        path = Path(path).expanduser().resolve()
        problems = model_problems(path)
        if problems:
            raise ModelNotFound(path, "; ".join(problems))
        vosk = _vosk()
        vosk.SetLogLevel(-1)
        started = time.perf_counter()
        try:
            model = vosk.Model(str(path))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise ModelNotFound(path, f"Vosk could not load it ({exc})") from exc
        load_seconds = time.perf_counter() - started
        log.info("loaded Vosk model %s in %.2f s", path.name, load_seconds)
        return cls(path=path, model_name=path.name, load_seconds=load_seconds, model=model)

    def transcribe(self, audio: NormalizedAudio) -> TranscriptResult:
        """Decode ``audio`` with a fresh recognizer; raises DecodeError if Vosk fails."""
        if audio.sample_rate != TARGET_RATE:
            raise ValueError(f"audio must be {TARGET_RATE} Hz, got {audio.sample_rate} Hz")
        vosk = _vosk()
        started = time.perf_counter()
        try:
            recognizer = vosk.KaldiRecognizer(self.model, float(TARGET_RATE))
            recognizer.SetWords(True)
            results: list[dict[str, Any]] = []
            for chunk in _chunks(audio.pcm, CHUNK_BYTES):
                if recognizer.AcceptWaveform(chunk):
                    results.append(json.loads(recognizer.Result()))
            results.append(json.loads(recognizer.FinalResult()))
        except Exception as exc:  # vosk signals failures with bare Exception
            raise DecodeError(f"Vosk failed to decode the audio: {exc}") from exc
        decode_seconds = time.perf_counter() - started
        return build_transcript(
            results,
            duration=audio.duration,
            model_name=self.model_name,
            decode_seconds=decode_seconds,
        )


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


_engines: dict[Path, VoskEngine] = {}
_engines_lock = threading.Lock()


def get_engine(path: Path) -> VoskEngine:
    """The process-wide engine for ``path``, loaded on first use (thread-safe)."""
    key = Path(path).expanduser().resolve()
    engine = _engines.get(key)
    if engine is not None:
        return engine
    # One lock for all paths: loads are rare, and a second thread asking for the same
    # model must wait for it rather than load another copy of hundreds of MB.
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = VoskEngine.load(key)
            _engines[key] = engine
        return engine


def loaded_engine(path: Path) -> VoskEngine | None:
    """The engine for ``path`` if this process (or its parent, before forking) loaded it."""
    return _engines.get(Path(path).expanduser().resolve())


def preload(path: Path) -> VoskEngine | None:
    """Load the model in a worker's parent process before it forks work-horses.

    Returns None (and logs a warning) when there is no usable model: the worker
    must still start, so that recordings are kept and marked as awaiting a model.
    """
    try:
        return get_engine(path)
    except ModelNotFound as exc:
        log.warning("%s; voicemails will wait for transcription", exc)
        return None


def forget_engines() -> None:
    """Drop cached engines (after installing a new model, and in tests)."""
    with _engines_lock:
        _engines.clear()


def resolve_model_path(configured: str | None, instance_path: Path) -> Path:
    """The model directory: ``configured`` (relative paths are taken from the instance
    folder) or ``<instance>/models/vosk-model-small-cn-0.22``."""
    if not configured:
        return Path(instance_path) / "models" / DEFAULT_MODEL_NAME
    path = Path(configured).expanduser()
    return path if path.is_absolute() else Path(instance_path) / path


def model_path(config: Mapping[str, Any]) -> Path:
    """The active model directory for this configuration (also ``pipeline.model_path``: here
    for ``make run``'s supervisor, which reads it without loading the pipeline)."""
    return resolve_model_path(config.get("VOSK_MODEL_PATH"), Path(config["INSTANCE_PATH"]))
