"""Console accounts and the login attempts that throttle password guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models import Department
from core.db import Base, UtcDateTime, utcnow

ROLES: tuple[str, ...] = ("operator", "department", "supervisor", "admin")
ROLE_LABELS: dict[str, str] = {
    "operator": "中心工作人员",
    "department": "承办单位联络员",
    "supervisor": "企服专班",
    "admin": "管理员",
}


class User(Base):
    """A person who signs in to the console; department users act for one department."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('operator', 'department', 'supervisor', 'admin')",
                        name="role"),
        # A liaison without a department could see nothing and act for no one.
        CheckConstraint("(role = 'department') = (department_id IS NOT NULL)",
                        name="department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # For SMS reminders to liaisons (follow-through issue); E.164.
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    department: Mapped[Department | None] = relationship()

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class LoginAttempt(Base):
    """One sign-in attempt; recent failures per username and per address lock sign-in."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
