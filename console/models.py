"""Console accounts and the failure counters that throttle password guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
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
    # Copied into the session cookie at sign-in; raising it ends every session of the user
    # (logout, password change, disabling), even a cookie copied before.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    department: Mapped[Department | None] = relationship()

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def end_sessions(self) -> None:
        """Invalidate every session cookie issued to this user so far (at the next flush)."""
        self.session_version = User.session_version + 1


class LoginCounter(Base):
    """Failed sign-ins of one account from one address (``pair``), or from one address at
    all (``ip``), and until when the next try must wait (console.throttle)."""

    __tablename__ = "login_counters"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # "pair" or "ip"
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    # The last charged try: the counts restart a window after it.
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    failures: Mapped[int]
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
