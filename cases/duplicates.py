"""Repeat requests (重复诉求) and 并单: one rule for every channel, merge and unlink.

A case is a candidate duplicate of an earlier *open* case from the same caller (the same
contact phone or the same enterprise) in the same category received within
:data:`DUPLICATE_WINDOW`. Voicemail links a repeat message automatically with this rule;
cases from the API, the console and the importer are filed as they come and the operator
sees the candidates on the case page, where the newer case can be merged into the earlier
one (the enterprise is told by SMS) or a merge undone (unlinked). Both need a reason and
are audited on both cases.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cases import sms, states
from cases.actors import Actor
from cases.audit import record_event, snapshot
from cases.call_log import call_log
from cases.case_models import Case, CaseRecording
from cases.enterprises import phone_or_none
from cases.errors import InvalidInput, NotFound
from cases.intake import file_case
from cases.vocab import OPEN_STATUSES, Channel, Ledger, Status

# A repeat request within this window is linked to the open case (重复诉求并单).
DUPLICATE_WINDOW = timedelta(days=7)
REASON_MAX = 200
MERGE_FIELDS = ("status", "merged_into_id", "ledger_state")


def duplicate_query(*, phone: Any, enterprise_id: Any, category: Any, since: Any
                    ) -> Select[tuple[Case]]:
    """Open cases of the same caller and category received since ``since``, newest first.

    Takes plain values or SQL expressions (bound parameters, an enterprise scalar
    subquery), so the voicemail webhook's single-statement lookup reuses it.
    """
    same_caller = [Case.contact_phone == phone] if phone is not None else []
    if enterprise_id is not None:
        same_caller.append(Case.enterprise_id == enterprise_id)
    return (
        select(Case)
        .where(or_(*same_caller), Case.category.is_not_distinct_from(category),
               Case.status.in_(OPEN_STATUSES), Case.received_at >= since)
        .order_by(Case.received_at.desc(), Case.id.desc())
    )


def find_duplicate(session: Session, *, phone: str | None, enterprise_id: int | None,
                   category: str | None, now: datetime) -> Case | None:
    """The newest open case from the same caller in the same category within 7 days."""
    if phone is None and enterprise_id is None:
        return None
    return session.scalars(duplicate_query(
        phone=phone, enterprise_id=enterprise_id, category=category,
        since=now - DUPLICATE_WINDOW)).first()


def candidates(session: Session, case: Case) -> list[Case]:
    """Earlier open cases ``case`` repeats (the same rule as voicemail linking).

    Only a case still in the centre's queue (已受理) can be merged, so only those get any.
    """
    if case.status != Status.RECEIVED or (case.contact_phone is None
                                          and case.enterprise_id is None):
        return []
    stmt = duplicate_query(phone=case.contact_phone, enterprise_id=case.enterprise_id,
                           category=case.category,
                           since=case.received_at - DUPLICATE_WINDOW)
    stmt = stmt.where(Case.id != case.id, or_(
        Case.received_at < case.received_at,
        (Case.received_at == case.received_at) & (Case.id < case.id)))
    return list(session.scalars(stmt))


def merged_cases(session: Session, case: Case) -> list[Case]:
    """The cases merged into ``case``, oldest first."""
    return list(session.scalars(
        select(Case).where(Case.merged_into_id == case.id).order_by(Case.id)))


def _reason(reason: str) -> str:
    cleaned = " ".join((reason or "").split())
    if not cleaned:
        raise InvalidInput({"reason": "请填写理由"})
    if len(cleaned) > REASON_MAX:
        raise InvalidInput({"reason": f"理由不能超过{REASON_MAX}字"})
    return cleaned


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise NotFound("诉求不存在")
    return case


def merge(session: Session, case_id: int, *, into_id: int, reason: str, actor: Actor,
          now: datetime) -> Case:
    """并单: file ``case_id`` under the earlier case ``into_id`` and tell the enterprise."""
    note = _reason(reason)
    case = _case(session, case_id)
    states.check(case, "merge")
    target = next((c for c in candidates(session, case) if c.id == into_id), None)
    if target is None:
        raise InvalidInput({"into_id": "只能并入同一企业（或同一联系电话）7日内同类的在办诉求"})
    before = snapshot(case, MERGE_FIELDS)
    states.move(case, "merge", Status.MERGED)
    case.merged_into_id = target.id
    case.merged_at = now
    case.ledger_state = Ledger.SETTLED
    case.settled_at = now
    case.updated_at = now
    session.flush()
    record_event(session, case, actor=actor, action="merged", now=now, before=before,
                 after={**snapshot(case, MERGE_FIELDS), "merged_into": target.number},
                 note=note)
    record_event(session, target, actor=actor, action="duplicate_merged", now=now,
                 after={"merged_case": case.number}, note=note)
    sms.case_merged(session, case, target, now)
    return case


def unlink(session: Session, case_id: int, *, reason: str, actor: Actor,
           now: datetime) -> Case:
    """Undo a merge: the case is back in the centre's queue on its own number."""
    note = _reason(reason)
    case = _case(session, case_id)
    states.check(case, "unlink")
    target = session.get(Case, case.merged_into_id) if case.merged_into_id else None
    before = snapshot(case, MERGE_FIELDS)
    states.move(case, "unlink", Status.RECEIVED)
    case.merged_into_id = None
    case.merged_at = None
    case.ledger_state = Ledger.OPEN
    case.settled_at = None
    case.updated_at = now
    session.flush()
    record_event(session, case, actor=actor, action="unlinked", now=now, before=before,
                 after=snapshot(case, MERGE_FIELDS), note=note)
    if target is not None:
        record_event(session, target, actor=actor, action="duplicate_unlinked", now=now,
                     after={"unlinked_case": case.number}, note=note)
    sms.case_unlinked(session, case, now)
    return case


def linked_voicemails(case: Case) -> list[CaseRecording]:
    """Voicemails linked to ``case`` as repeat requests (not the case's own messages)."""
    return [link for link in case.recordings if link.duplicate]


def unlink_voicemail(session: Session, case_id: int, link_id: int, *, reason: str,
                     actor: Actor, now: datetime) -> Case:
    """Undo an automatic voicemail 并单: the message becomes a case of its own.

    The new case is filed like any voicemail (the caller gets its number by SMS) and waits
    in the queue for review; both cases' trails record the reason.
    """
    note = _reason(reason)
    case = _case(session, case_id)
    link = session.get(CaseRecording, link_id)
    if link is None or link.case_id != case.id or not link.duplicate:
        raise NotFound("该留言不是并入本件的重复诉求")
    caller = None
    if link.call_id is not None:
        caller = phone_or_none(call_log(session).caller(session, link.call_id))
    split = file_case(session, channel=Channel.HOTLINE_VOICEMAIL,
                      description=link.transcript or "", received_at=link.linked_at,
                      category=case.category, subcategory=case.subcategory,
                      contact_phone=caller or case.contact_phone,
                      enterprise_id=case.enterprise_id if caller in (None, case.contact_phone)
                      else None,
                      call_id=link.call_id, recording_id=link.recording_id, actor=actor,
                      now=now)
    split.needs_review = True
    link.case_id = split.id
    link.duplicate = False
    session.flush()
    record_event(session, case, actor=actor, action="voicemail_unlinked", now=now,
                 before={"recording_id": link.recording_id},
                 after={"new_case": split.number}, note=note)
    record_event(session, split, actor=actor, action="split_from", now=now,
                 after={"earlier_case": case.number}, note=note)
    sms.voicemail_filed(session, split, now)
    return split
