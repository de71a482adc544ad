"""The screen pop: what an operator sees of a caller while the device rings and during the
call (docs/console.md, "坐席工作台").

Number (masked as in the logs), the enterprise recognised by caller ID, its open cases, the
number's last five calls, the IVR path and the area chosen, how long the caller waited, and
any callback request. Rendered by ``console/templates/console/_screen_pop.html``, which
leaves a place for further panels (``#pop-panels``; see :data:`EXTRA_PANELS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callqueue.models import (
    OUTCOME_LABELS,
    EntryKind,
    EntryStatus,
    Offer,
    OfferStatus,
    QueueEntry,
    WrapUp,
)
from cases.case_models import Case
from cases.enterprises import enterprises_for_phone
from cases.queries import open_cases_for_caller
from cases.vocab import CATEGORY_LABELS, SUBCATEGORY_LABELS
from ivr.models import Call
from ivr.redact import mask_number

LAST_CALLS = 5
OPEN_CASES = 5

# Further panels of the screen pop: (title, template) pairs rendered in #pop-panels with the
# pop in their context (``pop``). The live transcript (docs/live.md) is fed by
# ``callqueue.live.call_channel(pop.call_sid)`` through the desk's call stream.
EXTRA_PANELS: tuple[tuple[str, str], ...] = (
    ("实时转写", "console/_pop_live_transcript.html"),
)

OFFER_LABELS = {OfferStatus.PLACING: "振铃", OfferStatus.RINGING: "振铃",
                OfferStatus.ANSWERED: "接通中", OfferStatus.BRIDGED: "通话中",
                OfferStatus.ENDED: "通话结束", OfferStatus.NO_ANSWER: "未接听",
                OfferStatus.FAILED: "未能接通", OfferStatus.DROPPED: "来电已挂断",
                OfferStatus.CANCELLED: "来电已挂断"}


@dataclass
class PastCall:
    id: int
    started_at: datetime
    reached_operator: bool
    status: str
    outcome: str | None


@dataclass
class Pop:
    entry_id: int
    call_sid: str
    call_id: int | None
    masked_number: str
    kind: str
    area: str
    subarea: str | None
    waited_seconds: int
    waiting_since: datetime
    answered: bool
    status_label: str
    enterprises: list[str]
    open_cases: list[Case]
    open_case_total: int
    last_calls: list[PastCall]
    path: list[str]
    callback: QueueEntry | None
    outcome: WrapUp | None
    extra_panels: tuple[tuple[str, str], ...] = field(default_factory=lambda: EXTRA_PANELS)

    @property
    def area_label(self) -> str:
        label = CATEGORY_LABELS.get(self.area, self.area)
        if self.subarea:
            label += " · " + SUBCATEGORY_LABELS.get(self.area, {}).get(self.subarea, self.subarea)
        return label


def may_see(session: Session, agent_id: int, entry_id: int) -> bool:
    """Whether the operator was offered (or answered) this caller."""
    return session.scalar(select(Offer.id).where(
        Offer.entry_id == entry_id, Offer.agent_id == agent_id).limit(1)) is not None


def screen_pop(session: Session, entry_id: int, *, agent_id: int, now: datetime,
               node_labels: dict[str, str]) -> Pop | None:
    entry = session.get(QueueEntry, entry_id)
    if entry is None:
        return None
    offer = session.scalars(select(Offer).where(
        Offer.entry_id == entry.id, Offer.agent_id == agent_id).order_by(Offer.id.desc())
        .limit(1)).first()
    call = session.scalars(select(Call).where(Call.call_sid == entry.call_sid).options(
        selectinload(Call.events))).one_or_none()
    number = entry.from_number
    cases = open_cases_for_caller(session, number)
    past = session.execute(
        select(Call.id, Call.started_at, Call.reached_operator, Call.status, WrapUp.outcome)
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .where(Call.from_number == number, Call.call_sid != entry.call_sid)
        .order_by(Call.started_at.desc(), Call.id.desc()).limit(LAST_CALLS)).all()
    callback = entry if entry.kind == EntryKind.CALLBACK else session.scalars(
        select(QueueEntry).where(QueueEntry.kind == EntryKind.CALLBACK.value,
                                 QueueEntry.call_sid == entry.call_sid)).one_or_none()
    ended = entry.answered_at or (entry.ended_at if entry.status != EntryStatus.WAITING
                                  and entry.status != EntryStatus.OFFERED else None)
    waited_until = ended or now
    return Pop(
        entry_id=entry.id, call_sid=entry.call_sid, call_id=call.id if call else None,
        masked_number=mask_number(number) if number else "未知号码", kind=entry.kind,
        area=entry.area, subarea=entry.subarea,
        waited_seconds=max(0, round((waited_until - entry.enqueued_at).total_seconds())),
        waiting_since=entry.enqueued_at, answered=entry.answered_at is not None,
        status_label=OFFER_LABELS.get(OfferStatus(offer.status), "") if offer else "",
        enterprises=[e.name for e in enterprises_for_phone(session, number)],
        open_cases=cases[:OPEN_CASES], open_case_total=len(cases),
        last_calls=[PastCall(r.id, r.started_at, r.reached_operator, r.status,
                             OUTCOME_LABELS.get(r.outcome) if r.outcome else None)
                    for r in past],
        path=[node_labels.get(n, n) for n in call.path] if call else [],
        callback=callback,
        outcome=session.scalars(select(WrapUp).where(WrapUp.entry_id == entry.id)
                                ).one_or_none(),
    )


def pop_summary(pop: Pop) -> dict[str, Any]:
    """The pop as JSON (tests, scripts): the same facts the fragment shows."""
    return {"entry_id": pop.entry_id, "number": pop.masked_number, "area": pop.area_label,
            "waited_seconds": pop.waited_seconds, "enterprises": pop.enterprises,
            "open_cases": [c.number for c in pop.open_cases], "path": pop.path,
            "last_calls": [c.id for c in pop.last_calls],
            "callback": pop.callback.id if pop.callback else None,
            "status": pop.status_label}
