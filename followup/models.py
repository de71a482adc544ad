"""Follow-up tables: follow-up calls (回访) of answered cases and their attempts.

The rules that fill them live in :mod:`followup.calls` and :mod:`followup.listeners`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.case_models import Case
from core.db import Base, UtcDateTime, utcnow


class FollowUpStatus(StrEnum):
    """Where a follow-up (回访) of one answered round of a case stands."""

    NEW = "new"  # created when the case was answered; a worker schedules the first call
    SCHEDULED = "scheduled"  # the next automatic call waits for ``next_attempt_at``
    CALLING = "calling"  # an attempt is being placed or is on the line
    RATED = "rated"  # the enterprise rated, by phone or through an operator
    OPERATOR = "operator"  # automatic calls gave up: an operator calls (operator task)
    UNREACHABLE = "unreachable"  # 回访未果: the operator could not get a rating either
    CANCELLED = "cancelled"  # the case moved on before anyone rated this round


FOLLOWUP_STATUS_LABELS: dict[str, str] = {
    FollowUpStatus.NEW: "待安排",
    FollowUpStatus.SCHEDULED: "待自动回访",
    FollowUpStatus.CALLING: "回访中",
    FollowUpStatus.RATED: "已评价",
    FollowUpStatus.OPERATOR: "待人工回访",
    FollowUpStatus.UNREACHABLE: "回访未果",
    FollowUpStatus.CANCELLED: "已取消",
}


class AttemptStatus(StrEnum):
    """One automatic call: in flight, rated, or why it did not produce a rating."""

    PLACING = "placing"  # the REST request has not been accepted by Twilio yet
    RINGING = "ringing"  # Twilio accepted the call
    IN_PROGRESS = "in_progress"  # a person answered; the survey is running
    RATED = "rated"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"  # answering machine or fax: no survey
    NO_RATING = "no_rating"  # answered, but hung up or gave no valid rating
    FAILED = "failed"  # Twilio could not connect the call
    ERROR = "error"  # the REST request failed for good
    LOST = "lost"  # no final status ever arrived


ATTEMPT_STATUS_LABELS: dict[str, str] = {
    AttemptStatus.PLACING: "正在呼叫",
    AttemptStatus.RINGING: "振铃中",
    AttemptStatus.IN_PROGRESS: "通话中",
    AttemptStatus.RATED: "已评价",
    AttemptStatus.NO_ANSWER: "无人接听",
    AttemptStatus.BUSY: "占线",
    AttemptStatus.MACHINE: "答录机接听",
    AttemptStatus.NO_RATING: "接听未评价",
    AttemptStatus.FAILED: "呼叫失败",
    AttemptStatus.ERROR: "呼叫请求失败",
    AttemptStatus.LOST: "呼叫结果未知",
}
LIVE_ATTEMPT_STATUSES = frozenset(
    {AttemptStatus.PLACING, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS}
)


class FollowUp(Base):
    """The follow-up of one answered round (``Case.rework_count``) of a case."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("case_id", "round"),
        # Due automatic calls (periodic catch-up) and the operator task list.
        Index("ix_followups_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=0)
    # The number called (E.164), copied when the case was answered.
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.NEW)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why an operator has to call (shown on the operator task list).
    operator_reason: Mapped[str | None] = mapped_column(String(200))
    operator_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # 回访未果: why, who recorded it, when.
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    unreachable_by: Mapped[str | None] = mapped_column(String(100))
    unreachable_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    rated_via: Mapped[str | None] = mapped_column(String(16))
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    attempts: Mapped[list[FollowUpAttempt]] = relationship(
        back_populates="followup", order_by="FollowUpAttempt.number"
    )

    @property
    def status_label(self) -> str:
        return FOLLOWUP_STATUS_LABELS.get(self.status, self.status)


class FollowUpAttempt(Base):
    """One automatic survey call; numbered per follow-up, so a job can never place it twice."""

    __tablename__ = "followup_attempts"
    __table_args__ = (UniqueConstraint("followup_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.PLACING)
    # What was dialled: E.164 or a SIP URI of the domestic trunk.
    target: Mapped[str] = mapped_column(String(200))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    rest_errors: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The key pressed in the rating menu, kept until the caller confirms it.
    pending_score: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[int | None] = mapped_column(Integer)
    comment_recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recordings.id"), unique=True
    )
    # The transcript of the spoken comment, once transcribed.
    comment: Mapped[str | None] = mapped_column(Text)

    followup: Mapped[FollowUp] = relationship(back_populates="attempts")

    @property
    def status_label(self) -> str:
        return ATTEMPT_STATUS_LABELS.get(self.status, self.status)
