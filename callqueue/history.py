"""A call's time in the queue, for the call log: its entries (and callback) and wrap-ups."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callqueue.models import EntryStatus, QueueEntry, WrapUp

STATUS_LABELS = {
    EntryStatus.WAITING: "等待中", EntryStatus.OFFERED: "振铃中", EntryStatus.CONNECTED: "通话中",
    EntryStatus.COMPLETED: "已接通", EntryStatus.ABANDONED: "排队中挂断",
    EntryStatus.LEFT: "离开排队", EntryStatus.UNAVAILABLE: "无空闲坐席",
    EntryStatus.FAILED: "未能回电",
}


@dataclass
class QueueHistory:
    entries: list[QueueEntry]
    wrapups: list[WrapUp]
    status_labels: dict[str, str]


def queue_history(session: Session, call_sid: str) -> QueueHistory:
    entries = list(session.scalars(select(QueueEntry).where(QueueEntry.call_sid == call_sid)
                                   .options(selectinload(QueueEntry.agent))
                                   .order_by(QueueEntry.id)))
    wrapups = list(session.scalars(
        select(WrapUp).where(WrapUp.entry_id.in_([e.id for e in entries]))
        .options(selectinload(WrapUp.agent), selectinload(WrapUp.article))
        .order_by(WrapUp.id))) if entries else []
    return QueueHistory(entries, wrapups, {s.value: label for s, label in STATUS_LABELS.items()})
