"""The voicemail transcription pipeline, one recording at a time, as domain steps.

claim → store the audio (download, SHA-256) → decode → store the transcript → hand it to
the case. Every step takes plain values and a Session; the caller owns the commits and
passes ``checkpoint`` so that progress (the stored file above all) survives a later crash.
Failures end in a status with a reason: permanent ones (unreadable audio, refused URL) are
never retried, retryable ones raise ``RetryLater`` for the job layer to schedule.

Long on purpose: the steps and their failure statuses are one state machine of a recording;
the job layer (transcription.jobs) stays outside.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from cases.voicemail import transcript_ready
from core.config import DEFAULT_TZ, hotline_zone, parse_bool
from core.db import run_retrying
from ivr.models import Recording
from recordings.audio_types import AUDIO_MIME_TYPES
from recordings.config import open_store
from recordings.keys import new_key, stored_key
from recordings.store import (
    AudioMissing,
    ChecksumMismatch,
    LocalStore,
    RecordingStore,
    StoreUnavailable,
)
from transcription.audio import DecoderUnavailable, UnreadableAudio, normalize_file
from transcription.chinese import TranscriptResult
from transcription.download import (
    DEFAULT_MAX_BYTES,
    DisallowedURL,
    DownloadFailed,
    download_recording,
)
from transcription.engine import DecodeError, ModelNotFound, VoskEngine, get_engine, loaded_engine
from transcription.engine import model_path as model_path  # the active model's folder
from transcription.models import Transcript
from transcription.statuses import TranscriptionStatus as S

log = logging.getLogger(__name__)

_REASON_CHARS = 500


class RetryLater(Exception):
    """The step failed in a way that trying again later may fix (Twilio slow, network)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentFailure(Exception):
    """Trying again will not help (until a person changes something)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PipelineSettings:
    """What the pipeline needs from the configuration."""

    allowed_hosts: tuple[str, ...]
    auth: tuple[str, str] | None
    recordings_dir: Path
    model_path: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    # Quick retries inside one job ride out blips; longer waits are the queue's Retry.
    download_retries: int = 2
    download_timeout: float = 15.0
    delete_from_twilio: bool = False
    # The hotline's zone: the case a transcript completes is dated in it.
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TZ))
    # Where audio is kept (default: a LocalStore on recordings_dir); see recordings/.
    store: RecordingStore | None = None
    # Scratch space for the audio being decoded (default: the system's temporary directory).
    scratch_dir: Path | None = None

    def recording_store(self) -> RecordingStore:
        return self.store if self.store is not None else LocalStore(self.recordings_dir)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PipelineSettings:
        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        return cls(
            allowed_hosts=tuple(config.get("RECORDING_HOSTS") or ()),
            auth=(sid, token) if sid and token else None,
            recordings_dir=Path(config["RECORDINGS_DIR"]),
            model_path=model_path(config),
            max_bytes=int(config.get("RECORDING_MAX_BYTES") or DEFAULT_MAX_BYTES),
            download_retries=int(config.get("RECORDING_DOWNLOAD_RETRIES", 2)),
            delete_from_twilio=parse_bool(config.get("RECORDINGS_DELETE_FROM_TWILIO")),
            tz=hotline_zone(config),
            store=open_store(config),
        )


@dataclass
class Outcome:
    """What one run did; returned by the job (RQ keeps it as the job result)."""

    recording_id: int
    status: str
    detail: str = ""
    transcript_id: int | None = None
    audio_seconds: float = 0.0
    decode_seconds: float = 0.0
    # Time spent getting the engine: ≈ 0 when the worker preloaded the model.
    model_load_seconds: float = 0.0
    # Whether this process already had the model (inherited from the worker parent).
    model_preloaded: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reason(text: str) -> str:
    return text[:_REASON_CHARS]


def transcript_for(session: Session, recording_id: int) -> Transcript | None:
    """The stored transcript of a recording, if any."""
    return session.scalars(
        select(Transcript).where(Transcript.recording_id == recording_id)
    ).one_or_none()


def claim(
    session: Session, recording_id: int, *, job_id: str | None, force: bool = False
) -> Recording | None:
    """Mark the recording as being transcribed by ``job_id``; None if there is nothing to do.

    Idempotent: a recording that is already done (a duplicate or late job) is left alone
    unless ``force`` asks for a fresh transcript.
    """
    values: dict[str, Any] = {
        "transcription_status": S.TRANSCRIBING, "transcription_error": None,
        "transcription_retry_at": None, "attempts": Recording.attempts + 1,
    }
    if job_id:
        values["transcription_job_id"] = job_id
    statement = update(Recording).where(Recording.id == recording_id)
    if not force:
        has_transcript = exists().where(Transcript.recording_id == Recording.id)
        statement = statement.where(or_(Recording.transcription_status != S.DONE,
                                        ~has_transcript))
    # One conditional UPDATE as the first statement of its transaction: atomic on every
    # backend, and SQLite waits for the write lock instead of failing a read-then-write.
    result = session.execute(statement.values(**values)
                             .execution_options(synchronize_session=False))
    if not result.rowcount:  # type: ignore[attr-defined]
        if session.get(Recording, recording_id) is None:
            log.warning("transcription: recording %s does not exist", recording_id)
        return None
    return session.get(Recording, recording_id, populate_existing=True)


def store_audio(
    session: Session, recording: Recording, settings: PipelineSettings, scratch: Path
) -> Path:
    """A local copy (in ``scratch``) of the recording's audio, storing it first if need be.

    Audio already in the store is fetched and checked against its SHA-256; otherwise it is
    downloaded, put in the store (atomically) and its key, size and SHA-256 recorded.
    Raises RetryLater for failures that may pass and PermanentFailure for the others.
    """
    store = settings.recording_store()
    key = stored_key(recording.audio_key, settings.recordings_dir)
    if key and recording.sha256:
        try:
            return store.fetch(key, scratch / Path(key).name, sha256=recording.sha256)
        except (AudioMissing, ChecksumMismatch) as exc:
            log.warning("stored audio of %s is missing or changed (%s); downloading again",
                        recording.recording_sid, exc)
        except StoreUnavailable as exc:
            raise RetryLater(f"录音存储不可用 / recording store unavailable: {exc}") from exc
    if not recording.url:
        raise RetryLater("Twilio has not told us the recording's URL yet")
    try:
        downloaded = download_recording(
            recording.url,
            allowed_hosts=settings.allowed_hosts,
            auth=settings.auth,
            dest_dir=scratch,
            max_bytes=settings.max_bytes,
            retries=settings.download_retries,
            timeout=settings.download_timeout,
            name=recording.recording_sid,
        )
    except DisallowedURL as exc:
        raise PermanentFailure(f"录音地址被拒绝 / {exc}") from exc
    except DownloadFailed as exc:
        if exc.retryable:
            raise RetryLater(f"下载失败 / download failed: {exc.reason}") from exc
        raise PermanentFailure(f"下载失败 / download failed: {exc.reason}") from exc
    key = new_key(recording.created_at, downloaded.path.name)
    try:
        store.put(key, downloaded.path, sha256=downloaded.sha256,
                  content_type=AUDIO_MIME_TYPES[downloaded.path.suffix.lstrip(".")])
    except StoreUnavailable as exc:
        raise RetryLater(f"录音存储不可用 / recording store unavailable: {exc}") from exc
    recording.audio_key = key
    recording.sha256 = downloaded.sha256
    recording.size_bytes = downloaded.size
    return downloaded.path


def decode_file(path: Path, engine: VoskEngine) -> tuple[TranscriptResult, str]:
    """Normalise and decode one audio file; returns the result and the source format.

    Raises PermanentFailure for unreadable audio, a missing decoder or a Vosk failure.
    """
    try:
        audio = normalize_file(path)
    except UnreadableAudio as exc:
        raise PermanentFailure(f"音频无法读取 / {exc}") from exc
    except DecoderUnavailable as exc:
        raise PermanentFailure(f"缺少解码工具 / {exc}") from exc
    try:
        return engine.transcribe(audio), audio.source_format
    except DecodeError as exc:
        raise PermanentFailure(f"识别失败 / {exc}") from exc


def store_transcript(
    session: Session,
    recording: Recording,
    result: TranscriptResult,
    *,
    now: datetime,
    source_format: str | None = None,
    tz: tzinfo | None = None,
) -> Transcript:
    """Store (or replace) the transcript, mark the recording done, and file it with its case.

    The case hand-off runs in the same transaction: a transcript is never stored without
    reaching its case, nor the other way round.
    """
    # The recording's UPDATE goes first so the transaction starts with a write (see claim).
    recording.transcription_status = S.DONE
    recording.transcription_error = None
    recording.transcription_retry_at = None
    session.flush()
    transcript = transcript_for(session, recording.id)
    if transcript is None:
        transcript = Transcript(recording_id=recording.id, created_at=now)
        session.add(transcript)
    transcript.apply(result, source_format)
    session.flush()
    transcript_ready(session, recording.id, result.text, result.confidence, now=now, tz=tz)
    return transcript


def mark_failed(
    session: Session, recording_id: int, reason: str, *, retry_at: datetime | None = None
) -> None:
    """Failed with ``reason``; ``retry_at`` lets the reconciliation try again from then."""
    session.execute(
        update(Recording).where(Recording.id == recording_id).values(
            transcription_status=S.FAILED, transcription_error=_reason(reason),
            transcription_retry_at=retry_at,
        )
    )


def mark_retrying(session: Session, recording_id: int, reason: str) -> None:
    """Back in the queue: the job will be retried by RQ; the reason stays visible."""
    session.execute(
        update(Recording).where(Recording.id == recording_id).values(
            transcription_status=S.QUEUED, transcription_error=_reason(f"{reason}（将自动重试）"),
        )
    )


def mark_awaiting_model(session: Session, recording_id: int, reason: str) -> None:
    """Kept (audio stored) until a model is installed; see docs/transcription.md."""
    session.execute(
        update(Recording).where(Recording.id == recording_id).values(
            transcription_status=S.AWAITING_MODEL, transcription_error=_reason(reason),
        )
    )


def mark_queued(
    session: Session,
    recording_id: int,
    job_id: str,
    *,
    from_statuses: tuple[str, ...] = (S.PENDING,),
) -> bool:
    """Record that ``job_id`` was enqueued, unless a job already moved the recording on."""
    result = session.execute(
        update(Recording)
        .where(Recording.id == recording_id,
               Recording.transcription_status.in_([str(s) for s in from_statuses]))
        .values(transcription_status=S.QUEUED, transcription_job_id=job_id)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def run(
    session: Session,
    recording_id: int,
    *,
    settings: PipelineSettings,
    now: datetime,
    job_id: str | None = None,
    force: bool = False,
    checkpoint: Callable[[], None],
    engine_loader: Callable[[Path], VoskEngine] = get_engine,
    after_store: Callable[[Recording], None] | None = None,
) -> Outcome:
    """Transcribe one recording end to end; see the module docstring.

    ``checkpoint`` commits progress; ``after_store`` runs once the audio is safely stored
    (e.g. delete it from Twilio).
    Raises RetryLater for retryable failures (the recording keeps its stored progress).
    """
    recording = claim(session, recording_id, job_id=job_id, force=force)
    checkpoint()
    if recording is None:
        return Outcome(recording_id, "skipped", detail="nothing to do")
    scratch = Path(tempfile.mkdtemp(prefix="hotline-audio-", dir=settings.scratch_dir))
    try:
        return _transcribe(session, recording, settings=settings, now=now, scratch=scratch,
                           checkpoint=checkpoint, engine_loader=engine_loader,
                           after_store=after_store)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _transcribe(
    session: Session,
    recording: Recording,
    *,
    settings: PipelineSettings,
    now: datetime,
    scratch: Path,
    checkpoint: Callable[[], None],
    engine_loader: Callable[[Path], VoskEngine],
    after_store: Callable[[Recording], None] | None,
) -> Outcome:
    recording_id = recording.id
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        mark = time.perf_counter()
        had_file = recording.audio_key is not None
        path = store_audio(session, recording, settings, scratch)
        checkpoint()  # the file is safe before anything else happens
        timings["download"] = time.perf_counter() - mark
        if after_store is not None and not had_file:
            after_store(recording)
        preloaded = loaded_engine(settings.model_path) is not None
        mark = time.perf_counter()
        try:
            engine = engine_loader(settings.model_path)
        except ModelNotFound as exc:
            mark_awaiting_model(session, recording_id, f"未安装语音模型 / {exc}")
            checkpoint()
            return Outcome(recording_id, S.AWAITING_MODEL, detail=exc.reason)
        model_load = time.perf_counter() - mark
        mark = time.perf_counter()
        result, source_format = decode_file(path, engine)
        timings["decode"] = time.perf_counter() - mark
        mark = time.perf_counter()

        def store() -> Transcript:
            stored = store_transcript(session, recording, result, now=now,
                                      source_format=source_format, tz=settings.tz)
            checkpoint()
            return stored

        # Storing is idempotent (the transcript is replaced, the case hand-off keyed on the
        # recording): a lock conflict stores it again rather than decoding it again.
        transcript = run_retrying(store, what=f"transcript of recording {recording_id}",
                                  before_retry=session.rollback)
        timings["store"] = time.perf_counter() - mark
    except PermanentFailure as exc:
        session.rollback()
        mark_failed(session, recording_id, exc.reason)
        checkpoint()
        log.warning("transcription of recording %s failed: %s", recording_id, exc.reason)
        return Outcome(recording_id, S.FAILED, detail=exc.reason)
    timings["total"] = time.perf_counter() - started
    return Outcome(
        recording_id, S.DONE, transcript_id=transcript.id, audio_seconds=result.duration,
        decode_seconds=timings["decode"], model_load_seconds=model_load,
        model_preloaded=preloaded, timings=timings,
        detail="empty" if result.is_empty else "",
    )


def retry_time(now: datetime, attempts: int) -> datetime:
    """When the reconciliation may retry a recording whose retries ran out: back off."""
    return now + timedelta(minutes=min(15 * 2 ** max(attempts - 1, 0), 24 * 60))
