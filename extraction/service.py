"""Suggestions stored with a case, the operator's decisions, and how often they help.

A case's text (what it was filed with, each voicemail transcript) is read once when it
arrives (``suggest_fields``, through ``cases.events.CaseTextArrived``). The operator accepts,
edits or rejects each suggestion on the case page (``decide``); an accepted value goes
through the same field rules as a typed one (``cases.actions.details.do_update_details``), and
never replaces what is already in the case unless the operator says so (``replace``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.actions.details import do_update_details
from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Case, CaseEvent
from cases.enterprises import checked_uscc, find_or_register_enterprise
from cases.errors import InvalidInput
from cases.models import Enterprise
from cases.town_suggestions import place_name
from core.phones import InvalidPhone, normalize_phone
from extraction.directory import Directory, load_directory
from extraction.extract import Suggestion, extract
from extraction.models import FieldSuggestion
from routing.rules import CATEGORIES, SUBCATEGORIES
from transcription.models import Transcript

PENDING, ACCEPTED, EDITED, REJECTED = "pending", "accepted", "edited", "rejected"
DECISIONS = (ACCEPTED, EDITED, REJECTED)
FIELD_LABELS = {"enterprise": "企业", "contact": "联系人", "phone": "联系电话",
                "uscc": "统一社会信用代码", "area": "诉求类别", "subarea": "子类",
                "town": "所在镇街"}
FIELD_ORDER = tuple(FIELD_LABELS)


def word_spans(text: str, words: Sequence[dict[str, Any]]) -> list[tuple[int, int, float]]:
    """(start, end, seconds) of each recognised word within the transcript ``text``."""
    spans: list[tuple[int, int, float]] = []
    position = 0
    for word in words:
        token = str(word.get("word", "")).strip()
        if not token:
            continue
        at = text.find(token, position)
        if at < 0:
            continue
        spans.append((at, at + len(token), float(word.get("start", 0.0))))
        position = at + len(token)
    return spans


def _evidence(suggestion: Suggestion, spans: list[tuple[int, int, float]]
              ) -> list[dict[str, Any]]:
    found = []
    for item in suggestion.evidence:
        entry: dict[str, Any] = item.as_dict()
        seconds = next((s for start, end, s in spans if end > item.start and start < item.end),
                       None)
        if seconds is not None:
            entry["seconds"] = round(seconds, 2)
        found.append(entry)
    return found


def _phone(value: str) -> str | None:
    try:
        return normalize_phone(value)
    except InvalidPhone:
        return None


def current_value(case: Case, field: str) -> str | None:
    """What the case holds now for ``field`` (in the suggestion's terms), or None."""
    enterprise = case.enterprise
    if field == "enterprise":
        return enterprise.name if enterprise else None
    if field == "contact":
        return case.contact_name
    if field == "phone":
        return case.contact_phone
    if field == "uscc":
        return enterprise.uscc if enterprise else None
    if field == "area":
        return CATEGORIES.get(case.category or "")
    if field == "subarea":
        return SUBCATEGORIES.get(case.category or "", {}).get(case.subcategory or "")
    if field == "town":
        return enterprise.town if enterprise else None
    raise ValueError(f"unknown field {field!r}")


def _already(case: Case, field: str, value: str) -> bool:
    held = current_value(case, field)
    if held is None:
        return False
    if field == "phone":
        return held == _phone(value)
    if field == "town":
        return place_name(held) == place_name(value)
    return held == value


def suggest_fields(session: Session, case: Case, text: str, *, source: str, now: datetime,
                   recording_id: int | None = None,
                   directory: Directory | None = None) -> list[FieldSuggestion]:
    """Store what ``text`` suggests for ``case``; returns the new pending suggestions.

    Pending suggestions of the same source are replaced; decided ones stay, and a value the
    operator already decided on (or that the case holds) is not suggested again.
    """
    found = extract(text, directory if directory is not None else load_directory(session))
    spans: list[tuple[int, int, float]] = []
    if recording_id is not None:
        words = session.scalar(select(Transcript.words).where(
            Transcript.recording_id == recording_id))
        spans = word_spans(text, words or [])
    existing = list(session.scalars(select(FieldSuggestion).where(
        FieldSuggestion.case_id == case.id)))
    known = set()
    for row in existing:
        if row.status == PENDING and row.source == source:
            session.delete(row)
        else:
            known.add((row.field, row.value))
    rows = []
    for field, suggestion in found.items():
        if (field, suggestion.value) in known or _already(case, field, suggestion.value):
            continue
        known.add((field, suggestion.value))
        rows.append(FieldSuggestion(
            case_id=case.id, field=field, value=suggestion.value[:200],
            confidence=round(suggestion.confidence, 3),
            evidence=_evidence(suggestion, spans), details=dict(suggestion.extra),
            source=source, recording_id=recording_id, status=PENDING, created_at=now))
    session.add_all(rows)
    session.flush()
    return rows


def case_suggestions(session: Session, case_id: int) -> list[FieldSuggestion]:
    """The case's suggestions in field order, pending first within a field."""
    rows = session.scalars(select(FieldSuggestion).where(FieldSuggestion.case_id == case_id)
                           .order_by(FieldSuggestion.id))
    return sorted(rows, key=lambda r: (FIELD_ORDER.index(r.field), r.status != PENDING,
                                       -r.confidence))


# The case column each field's value lives in (the enterprise's for USCC and town).
CASE_COLUMNS = {"enterprise": "enterprise_id", "contact": "contact_name",
                "phone": "contact_phone", "uscc": "enterprise_id", "area": "category",
                "subarea": "subcategory", "town": "enterprise_id"}


def set_by_person(session: Session, case: Case, field: str) -> bool:
    """Whether a person gave the case's current value for ``field`` (not the system, such as
    the caller's number or menu choice filed with a voicemail)."""
    if field in ("uscc", "town"):
        return True  # the enterprise's own record: registered by a person
    column = CASE_COLUMNS[field]
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.id.desc()))
    for event in events:
        if column in (event.after or {}):
            return event.actor_kind != "system"
    return False


def _refuse(message: str) -> InvalidInput:
    return InvalidInput({"suggestion": message})


def _apply(session: Session, case: Case, row: FieldSuggestion, value: str, *, actor: Actor,
           now: datetime, replace: bool) -> None:
    """Put ``value`` into the case's field, refusing to overwrite unless ``replace``."""
    held = current_value(case, row.field)
    if held and not replace and not _already(case, row.field, value) \
            and set_by_person(session, case, row.field):
        raise _refuse(f"{FIELD_LABELS[row.field]}已有“{held}”，如要替换请选择“替换”")
    field = row.field
    if field == "contact":
        do_update_details(session, case.id, actor=actor, now=now, contact_name=value)
    elif field == "phone":
        do_update_details(session, case.id, actor=actor, now=now, contact_phone=value)
    elif field == "area":
        code = next((c for c, label in CATEGORIES.items() if value in (c, label)), None)
        if code is None:
            raise _refuse("诉求类别应为：" + "、".join(CATEGORIES.values()))
        do_update_details(session, case.id, actor=actor, now=now, category=code)
    elif field == "subarea":
        area = str(row.details.get("area") or case.category or "")
        subs = SUBCATEGORIES.get(area, {})
        code = next((c for c, label in subs.items() if value in (c, label)), None)
        if code is None:
            raise _refuse("该类别下没有此子类")
        do_update_details(session, case.id, actor=actor, now=now, category=area, subcategory=code)
    elif field == "enterprise":
        enterprise_id = row.details.get("enterprise_id") if value == row.value else None
        if enterprise_id is None or session.get(Enterprise, enterprise_id) is None:
            result = find_or_register_enterprise(session, name=value, uscc=None, now=now)
            enterprise_id = result.enterprise.id if result else None
        do_update_details(session, case.id, actor=actor, now=now, enterprise_id=enterprise_id)
    elif field in ("uscc", "town"):
        enterprise = case.enterprise
        if enterprise is None:
            raise _refuse(f"请先确认企业，再填写{FIELD_LABELS[field]}")
        if field == "uscc":
            code, _warnings = checked_uscc(value, "suggestion")
            other = session.scalar(select(Enterprise.id).where(
                Enterprise.uscc == code, Enterprise.id != enterprise.id))
            if other is not None:
                raise _refuse("该统一社会信用代码已登记在另一家企业")
            enterprise.uscc = code
        else:
            enterprise.town = value.strip()[:64] or None
    else:
        raise ValueError(f"unknown field {field!r}")


def decide(session: Session, suggestion_id: int, *, decision: str, actor: Actor,
           now: datetime, value: str | None = None, replace: bool = False) -> FieldSuggestion:
    """The operator accepts (as suggested), edits (``value``) or rejects a suggestion."""
    row = session.get(FieldSuggestion, suggestion_id)
    if row is None:
        raise LookupError(f"suggestion {suggestion_id} not found")
    if decision not in DECISIONS:
        raise _refuse("未知的操作")
    if row.status != PENDING:
        raise _refuse("该建议已处理")
    case = session.get(Case, row.case_id)
    assert case is not None
    final = None
    if decision in (ACCEPTED, EDITED):
        final = (value if decision == EDITED else row.value) or ""
        final = final.strip()
        if not final:
            raise _refuse("请填写修改后的值")
        if decision == EDITED and final == row.value:
            decision = ACCEPTED
        _apply(session, case, row, final, actor=actor, now=now, replace=replace)
    row.status, row.final_value = decision, final
    row.decided_by, row.decided_at = actor.name[:100], now
    record_event(session, case, actor=actor, action="field_suggestion", now=now,
                 after={"field": row.field, "suggested": row.value, "decision": decision,
                        **({"value": final} if final is not None else {})})
    session.flush()
    return row


@dataclass(frozen=True)
class Acceptance:
    """How the operators received the suggestions decided in a period."""

    accepted: int
    edited: int
    rejected: int

    @property
    def decided(self) -> int:
        return self.accepted + self.edited + self.rejected

    @property
    def rate(self) -> float | None:
        """Accepted as suggested, of all decided (edits are the suggestion's misses)."""
        return self.accepted / self.decided if self.decided else None


def acceptance(session: Session, start: datetime, end: datetime) -> Acceptance:
    """Suggestions decided in [start, end)."""
    counts = dict(session.execute(
        select(FieldSuggestion.status, func.count()).where(
            FieldSuggestion.decided_at >= start, FieldSuggestion.decided_at < end)
        .group_by(FieldSuggestion.status)).tuples().all())
    return Acceptance(counts.get(ACCEPTED, 0), counts.get(EDITED, 0), counts.get(REJECTED, 0))
