"""Published figures do not move: a month's figures as issued, and what changed since.

An issued bulletin is served as issued (the stored .docx) and keeps the centre's headline
figures it was issued with (``Bulletin.figures``). A later correction that changes a closed
month — a late-filed case, a corrected answer — does not rewrite what was published: the 统计
page marks the month as revised, with each difference against the issued figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.indicators import LABELS, RATE_LABELS, Figures
from reports.models import Bulletin, BulletinStatus
from reports.periods import Period

# The figures a bulletin publishes about the month (today's state, 当前逾期/挂账, is not a
# figure of the month and may change without any correction).
COUNTS = ("received", "instant", "routed", "joint", "escalated", "answered", "due", "on_time",
          "late", "rated", "satisfied", "followed_up")


def published(figures: Figures) -> dict[str, Any]:
    """What is stored with an issued bulletin."""
    return {name: figures[name] for name in COUNTS}


@dataclass(frozen=True)
class Change:
    name: str
    label: str
    issued: str
    now: str
    difference: str


@dataclass(frozen=True)
class Revision:
    """The month's figures differ from those of the bulletin issued for it."""

    issue_number: int
    changes: list[Change]

    @property
    def summary(self) -> str:
        return "；".join(f"{c.label} {c.issued}→{c.now}（{c.difference}）" for c in self.changes)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


RATES = {"on_time_rate": ("on_time", "due"), "satisfaction_rate": ("satisfied", "rated"),
         "followup_rate": ("followed_up", "answered"), "instant_rate": ("instant", "received")}


def compare(issued: dict[str, Any], now: Figures) -> list[Change]:
    """Every published count that differs, then every rate that moved."""
    changes = []
    for name in COUNTS:
        if name in issued and int(issued[name]) != now[name]:
            delta = now[name] - int(issued[name])
            changes.append(Change(name, LABELS[name], str(issued[name]), str(now[name]),
                                  f"{delta:+d}"))
    for name, (top, bottom) in RATES.items():
        if top not in issued or bottom not in issued:
            continue
        before = _rate(int(issued[top]), int(issued[bottom]))
        after = _rate(now[top], now[bottom])
        if before is None and after is None:
            continue
        if before is not None and after is not None and round(before, 4) == round(after, 4):
            continue
        shown = [f"{v * 100:.1f}%" if v is not None else "—" for v in (before, after)]
        difference = (f"{(after - before) * 100:+.1f}个百分点"
                      if before is not None and after is not None else "—")
        changes.append(Change(name, RATE_LABELS[name], shown[0], shown[1], difference))
    return changes


def revision(session: Session, period: Period, now: Figures) -> Revision | None:
    """The revision of a closed month with an issued bulletin, None if nothing changed (or
    the period is not such a month)."""
    key = f"{period.start:%Y-%m}"
    if period.label != f"{period.start.year}年{period.start.month}月":
        return None
    issued = session.scalars(select(Bulletin).where(
        Bulletin.month == key, Bulletin.status == BulletinStatus.ISSUED)).first()
    if issued is None or not issued.figures:
        return None
    changes = compare(issued.figures, now)
    return Revision(issued.issue_number, changes) if changes else None
