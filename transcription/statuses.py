"""The transcription status of a recording, with the labels operators see."""

from __future__ import annotations

from enum import StrEnum


class TranscriptionStatus(StrEnum):
    """pending → queued → transcribing → done | failed | awaiting_model."""

    PENDING = "pending"
    QUEUED = "queued"
    TRANSCRIBING = "transcribing"
    DONE = "done"
    FAILED = "failed"
    AWAITING_MODEL = "awaiting_model"


LABELS: dict[str, str] = {
    TranscriptionStatus.PENDING: "待转写",
    TranscriptionStatus.QUEUED: "排队中",
    TranscriptionStatus.TRANSCRIBING: "转写中",
    TranscriptionStatus.DONE: "已完成",
    TranscriptionStatus.FAILED: "失败",
    TranscriptionStatus.AWAITING_MODEL: "等待模型",
}

# A job is (or should be) on its way for these; reconciliation watches them for getting stuck.
IN_FLIGHT = frozenset({TranscriptionStatus.QUEUED, TranscriptionStatus.TRANSCRIBING})


def label(status: str) -> str:
    """The Chinese label of ``status`` (the raw value for unknown ones)."""
    return LABELS.get(status, status)
