"""The live transcript of a call, kept once its stream ends (one row per track)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class LiveTranscript(Base):
    """What Vosk heard on one track (inbound: the caller, outbound: the operator) while the
    call went on. The recording's offline transcript remains the record; this is what the
    operator saw during the call."""

    __tablename__ = "live_transcripts"
    __table_args__ = (UniqueConstraint("stream_sid", "track"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    stream_sid: Mapped[str] = mapped_column(String(64))
    track: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"text", "start", "end"}]: the final utterances, seconds into the stream.
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # False when the stream was cut (no ``stop``): what arrived is kept all the same.
    complete: Mapped[bool] = mapped_column(default=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
