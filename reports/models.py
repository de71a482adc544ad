"""Reporting tables: the monthly bulletins (简报) and the cases marked as typical (典型案例)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.case_models import Case
from core.db import Base, UtcDateTime


class BulletinStatus:
    DRAFT = "draft"
    ISSUED = "issued"


BULLETIN_STATUS_LABELS = {BulletinStatus.DRAFT: "草稿", BulletinStatus.ISSUED: "已印发"}


class Bulletin(Base):
    """One month's bulletin; the unique month is also the once-only lock of the draft job."""

    __tablename__ = "report_bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # "2026-11"
    issue_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=BulletinStatus.DRAFT)
    # The free-text section the supervisor writes before issuing (工作动态 / 下步打算).
    editorial: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    issued_by: Mapped[str | None] = mapped_column(String(100))
    # The issued .docx, kept exactly as issued.
    document: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The centre's figures as issued ({name: value}): a later correction of the month shows
    # on the 统计 page as a revision against these (reports.revisions).
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def status_label(self) -> str:
        return BULLETIN_STATUS_LABELS.get(self.status, self.status)


class ReportSnapshot(Base):
    """The 统计 page's figures of one scope, computed ahead (``reports/snapshots.py``)."""

    __tablename__ = "report_snapshots"

    # Period, unit, the day "now" counts were taken, a digest of the settings.
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # JSON (UTF-8): the figures as ``reports.snapshots`` encodes them.
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class TypicalCase(Base):
    """A case the supervisor marks as typical (典型案例) for the bulletin of its month."""

    __tablename__ = "report_typical_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    marked_by: Mapped[str] = mapped_column(String(100))
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime)

    case: Mapped[Case] = relationship()
