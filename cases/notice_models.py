"""Once-only rows of the deadline notices to departments and the leading group.

The rules that fill these tables live in :mod:`cases.reminders` and
:mod:`cases.decision_reminders`; texts go through :mod:`messaging`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class ReminderLevel(StrEnum):
    """Notices about an assignment's deadline, each sent at most once per assignment."""

    DUE_SOON = "due_soon"  # 提醒: due within one working day
    OVERDUE = "overdue"  # 催办: first overdue working day
    ESCALATED = "escalated"  # 督办: the supervisor is told after N overdue working days
    # 延期待审批: the centre has not decided an extension request within one working day.
    EXTENSION = "extension"


REMINDER_LEVEL_LABELS: dict[str, str] = {
    ReminderLevel.DUE_SOON: "到期提醒",
    ReminderLevel.OVERDUE: "催办",
    ReminderLevel.ESCALATED: "提请督办",
    ReminderLevel.EXTENSION: "延期待审批提醒",
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
