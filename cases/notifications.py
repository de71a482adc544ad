"""Console notifications: what a department or the supervisors (企服专班) must look at.

Written by reminders (提醒 / 催办 / 督办) and poor ratings (差评); read by the console with
:func:`inbox` and :func:`unread_count`, acknowledged with :func:`mark_read`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from cases.case_models import Case
from core.db import Base, UtcDateTime


class Audience(StrEnum):
    DEPARTMENT = "department"  # the department's liaisons (联络员)
    SUPERVISOR = "supervisor"  # the task force (企服专班) and administrators


class NotificationKind(StrEnum):
    DUE_SOON = "due_soon"  # 到期提醒
    OVERDUE = "overdue"  # 催办
    ESCALATED = "escalated"  # 督办: overdue for several working days
    POOR_RATING = "poor_rating"  # 差评: rated 1–2, reworked
    # Told to a department when something happens to its assignment.
    ASSIGNED = "assigned"  # 新交办
    REWORK = "rework"  # 重办
    EXT_APPROVED = "ext_approved"  # 延期已批准
    EXT_REJECTED = "ext_rejected"  # 延期未批准
    EXT_PENDING = "ext_pending"  # 延期待审批: the centre is reminded to decide a request
    RETURN_REFUSED = "return_refused"  # 退单未采纳: routed back to the unit that returned it
    BULLETIN = "bulletin"  # 简报: a monthly bulletin draft is ready (no case)
    # Key 9: too many wrong last-four-digit tries for one case number (cases.lookup_guard).
    LOOKUP_LOCKED = "lookup_locked"


KIND_LABELS: dict[str, str] = {
    NotificationKind.DUE_SOON: "到期提醒",
    NotificationKind.OVERDUE: "催办",
    NotificationKind.ESCALATED: "督办",
    NotificationKind.POOR_RATING: "差评重办",
    NotificationKind.ASSIGNED: "新交办",
    NotificationKind.REWORK: "重办",
    NotificationKind.EXT_APPROVED: "延期已批准",
    NotificationKind.EXT_REJECTED: "延期未批准",
    NotificationKind.EXT_PENDING: "延期待审批",
    NotificationKind.RETURN_REFUSED: "退单未采纳",
    NotificationKind.BULLETIN: "简报",
    NotificationKind.LOOKUP_LOCKED: "查询锁定",
}


class Notification(Base):
    """One message in a department's or the supervisors' inbox."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "audience", "department_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # None for notices about no single case (a bulletin draft).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The enterprise's comment on a poor rating (typed by an operator, or the transcript of
    # the comment spoken in the survey call once it is transcribed).
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_by: Mapped[str | None] = mapped_column(String(100))

    case: Mapped[Case | None] = relationship()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def notify(
    session: Session,
    *,
    audience: Audience,
    kind: NotificationKind,
    case: Case | None,
    title: str,
    body: str,
    now: datetime,
    department_id: int | None = None,
    assignment_id: int | None = None,
    rating_id: int | None = None,
    score: int | None = None,
    comment: str | None = None,
) -> Notification:
    """Add one notification; department notices need ``department_id``."""
    if (audience == Audience.DEPARTMENT) != (department_id is not None):
        raise ValueError("department notifications (and only they) need a department_id")
    notification = Notification(
        audience=audience, department_id=department_id, kind=kind,
        case_id=case.id if case is not None else None,
        assignment_id=assignment_id, rating_id=rating_id, score=score, title=title[:200],
        body=body, comment=comment or None, created_at=now,
    )
    session.add(notification)
    return notification


def _audience_filter(audience: Audience, department_id: int | None) -> list:
    if audience == Audience.DEPARTMENT:
        return [Notification.audience == audience, Notification.department_id == department_id]
    return [Notification.audience == audience]


def inbox(
    session: Session,
    audience: Audience,
    *,
    department_id: int | None = None,
    unread_only: bool = False,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Notification]:
    """Newest first; ``before_id`` is the last id of the previous page."""
    stmt = select(Notification).options(selectinload(Notification.case)).where(
        *_audience_filter(audience, department_id))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, audience: Audience, *, department_id: int | None = None
                 ) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(
            *_audience_filter(audience, department_id), Notification.read_at.is_(None))
    ) or 0


def mark_read(session: Session, notification_id: int, *, reader: str, now: datetime,
              audience: Audience, department_id: int | None = None) -> bool:
    """Mark one notification read; False if it is not in that inbox or was already read."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.read_at.is_(None),
               *_audience_filter(audience, department_id))
        .values(read_at=now, read_by=reader[:100])
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
