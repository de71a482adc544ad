"""Stored transcripts, and the mark of the last Twilio reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime, utcnow
from ivr.models import Recording
from transcription.chinese import TranscriptResult, Word


class Transcript(Base):
    """The machine transcript of one recording (Vosk output, Chinese text conventions applied).

    ``text`` stays what the engine heard; operator corrections belong in their own columns
    (with an audit trail) so the original is never overwritten.
    """

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"word", "start", "end", "conf"}, …] in seconds, for the review UI.
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    model_name: Mapped[str] = mapped_column(String(128), default="")
    rtf: Mapped[float] = mapped_column(Float, default=0.0)
    is_empty: Mapped[bool] = mapped_column(default=False)
    source_format: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    recording: Mapped[Recording] = relationship()

    def apply(self, result: TranscriptResult, source_format: str | None = None) -> None:
        """Copy an engine result into this row."""
        stored = result.to_dict()
        self.text = result.text
        self.words = stored["words"]
        self.confidence = result.confidence
        self.duration = result.duration
        self.model_name = result.model_name
        self.rtf = result.rtf
        self.is_empty = result.is_empty
        self.source_format = source_format

    @property
    def word_list(self) -> list[Word]:
        """The words as typed values."""
        return [Word(**item) for item in self.words or []]


class SyncMark(Base):
    """When a periodic sync last succeeded (e.g. listing Twilio's recordings)."""

    __tablename__ = "transcription_sync_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
