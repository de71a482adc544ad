"""Field suggestions stored with a case, and what the operator made of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class FieldSuggestion(Base):
    """One suggested value for a case field, with its evidence and the operator's decision.

    ``status``: ``pending`` until the operator accepts (the value as suggested), edits (their
    own value, kept in ``final_value``) or rejects it. Decided rows are never replaced by a
    later extraction; pending ones are, when the text changes.
    """

    __tablename__ = "field_suggestions"
    __table_args__ = (Index("ix_field_suggestions_case", "case_id", "field"),
                      Index("ix_field_suggestions_decided_at", "decided_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    # enterprise | contact | phone | uscc | area | subarea | town
    field: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float)
    # [{"text", "start", "end", "seconds"?}]: words of the source text (and where in the audio).
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Field-specific: enterprise_id/registered, area code, …
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(16))  # transcript | description
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    final_value: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
