"""The call log: every call, every step through the flow, every recording."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from call_flows.roles import HOTLINE_FLOW
from core.db import Base, UtcDateTime, utcnow

# Twilio call statuses ranked so that a late, out-of-order callback never moves a call backwards.
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "failed": 4,
    "no-answer": 4,
    "canceled": 4,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 4)
# The flow an inbound call to the hotline number starts in (call_flows/flows/hotline.yaml).
INBOUND_FLOW = HOTLINE_FLOW  # the calls the hotline answers; the survey's are outbound


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(32), default="inbound")
    from_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    to_number: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(32), default="ringing")
    flow: Mapped[str] = mapped_column(String(64), default=INBOUND_FLOW)
    last_node: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(String(32))
    reached_operator: Mapped[bool] = mapped_column(default=False)
    operator_answer_seconds: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[int | None] = mapped_column(Integer)

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", order_by=lambda: (CallEvent.at, CallEvent.id),
        cascade="all, delete-orphan",
    )
    recordings: Mapped[list[Recording]] = relationship(back_populates="call")

    @property
    def path(self) -> list[str]:
        """Nodes visited, in order, without consecutive repeats."""
        nodes: list[str] = []
        for event in self.events:
            if event.node and (not nodes or nodes[-1] != event.node):
                nodes.append(event.node)
        return nodes


class CallEvent(Base):
    """One step of a call: a node entered, a key pressed, a timeout, a status change."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    node: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="events")


class Recording(Base):
    """A Twilio recording (voicemail); the transcription issue fills the transcript side."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_transcription_status", "transcription_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # voicemail | operator (the operator leg of a call, recorded by <Dial>): never a voicemail.
    kind: Mapped[str] = mapped_column(String(16), default="voicemail",
                                      server_default="voicemail")
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    url: Mapped[str] = mapped_column(Text, default="")
    duration: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="in-progress")
    # pending → queued → transcribing → done | failed | awaiting_model
    transcription_status: Mapped[str] = mapped_column(String(32), default="pending")
    transcription_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The audio's key in the recording store (recordings.keys); the column keeps its first
    # name, from when it held a local path (rows of that time still may: see stored_key).
    local_path: Mapped[str | None] = mapped_column(Text)
    audio_key: Mapped[str | None] = synonym("local_path")
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    # The RQ job currently responsible for transcribing it (transcription issue, 0003).
    transcription_job_id: Mapped[str | None] = mapped_column(String(128))
    # A failed recording the reconciliation may retry from then on; None: needs a person.
    transcription_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call | None] = relationship(back_populates="recordings")
