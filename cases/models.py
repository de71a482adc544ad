"""Organisation models of the case domain: departments and enterprises."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime, utcnow


class Department(Base):
    """A member unit of the enterprise-service leading group (notice, attachment 2)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="department")
    task_force: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class Enterprise(Base):
    """A company that brings requests; identified by its USCC and its phone numbers."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Unique when known; several enterprises may have none yet.
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Some early real codes fail the check character: kept, but flagged for a human.
    uscc_checksum_ok: Mapped[bool] = mapped_column(default=True)
    town: Mapped[str | None] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    phones: Mapped[list[EnterprisePhone]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="EnterprisePhone.id"
    )


class EnterprisePhone(Base):
    """A phone number (E.164) that identifies an enterprise when it calls the hotline."""

    __tablename__ = "enterprise_phones"
    __table_args__ = (UniqueConstraint("enterprise_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(32), default="")

    enterprise: Mapped[Enterprise] = relationship(back_populates="phones")
