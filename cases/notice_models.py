"""Outbound notices of cases: reminders sent to departments (once per level) and the SMS outbox.

The rules that fill these tables live in :mod:`cases.reminders` and :mod:`cases.receipts`;
``workers.sms_outbox`` sends the outbox.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime, utcnow


class ReminderLevel(StrEnum):
    """Notices about an assignment's deadline, each sent at most once per assignment."""

    DUE_SOON = "due_soon"  # 提醒: due within one working day
    OVERDUE = "overdue"  # 催办: first overdue working day
    ESCALATED = "escalated"  # 督办: the supervisor is told after N overdue working days


REMINDER_LEVEL_LABELS: dict[str, str] = {
    ReminderLevel.DUE_SOON: "到期提醒",
    ReminderLevel.OVERDUE: "催办",
    ReminderLevel.ESCALATED: "提请督办",
}


class ReminderSent(Base):
    """The unique row that makes a reminder happen once, whatever the number of schedulers."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("assignment_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    level: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    due_date: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EscalationReminderSent(Base):
    """Once-only row of a notice about a leading-group decision that is due or overdue."""

    __tablename__ = "escalation_reminders"
    __table_args__ = (UniqueConstraint("escalation_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"))
    level: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SmsStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # no sender configured


class SmsMessage(Base):
    """Outbox of text messages; written with the change that causes them, sent by a job.

    The body is rendered when it is sent (signature and hotline number come from the
    configuration); ``dedupe_key`` keeps a retried request from queueing a second text.
    """

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_status_next", "status", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SmsStatus.PENDING)
    body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    message_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # Twilio's message status callback: queued, sent, delivered, undelivered, failed.
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error_code: Mapped[str | None] = mapped_column(String(16))
    delivery_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
