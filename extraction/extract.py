"""One text in, suggested case fields out: each with a value, a confidence and its evidence.

``extract(text, directory)`` never looks anything up by itself: the directory of registered
enterprises and towns is passed in (``directory.load_directory`` for this installation, the
evaluation set's own for ``flask speech evaluate``). Confidences are between 0 and 1; fields
below :data:`MIN_CONFIDENCE` are left out (null) rather than suggested (docs/extraction.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from extraction.directory import Directory, KnownEnterprise, NameMatch, Town, town_of
from extraction.names import ContactFound, find_company_names, find_contact
from extraction.numbers import find_phones, find_uscc
from extraction.text import Evidence, Prepared, prepare
from extraction.vocabulary import SPOKEN_TERMS
from routing.rules import CATEGORIES, SUBCATEGORIES, suggest, suggest_category

MIN_CONFIDENCE = 0.5
# A registered enterprise is suggested only this sure (precision before recall: a wrong
# enterprise is worse than none, the operator types it then).
MIN_ENTERPRISE = 0.8
# Place words after a town's name that make a homophone of it count ("西口的", "上田那边").
PLACE_MARKERS = ("镇", "街道", "街", "那边", "这边", "工业", "附近", "海边", "的", "开", "这里")

FIELDS = ("enterprise", "contact", "phones", "uscc", "area", "subarea", "town")


@dataclass(frozen=True)
class Suggestion:
    value: str
    confidence: float
    evidence: tuple[Evidence, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "confidence": round(self.confidence, 2),
                "evidence": [e.as_dict() for e in self.evidence], **self.extra}


@dataclass(frozen=True)
class Extraction:
    enterprise: Suggestion | None = None
    contact: Suggestion | None = None
    phones: tuple[Suggestion, ...] = ()
    uscc: Suggestion | None = None
    area: Suggestion | None = None
    subarea: Suggestion | None = None
    town: Suggestion | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if name == "phones":
                result[name] = [s.as_dict() for s in value]
            else:
                result[name] = value.as_dict() if value is not None else None
        return result

    def items(self) -> list[tuple[str, Suggestion]]:
        """(field, suggestion) pairs, phones one by one."""
        pairs: list[tuple[str, Suggestion]] = []
        for name in FIELDS:
            value = getattr(self, name)
            if name == "phones":
                pairs.extend(("phone", s) for s in value)
            elif value is not None:
                pairs.append((name, value))
        return pairs


def _registered(prepared: Prepared, matches: list[NameMatch]
                ) -> tuple[Suggestion | None, tuple[int, int] | None]:
    found = [m for m in matches if isinstance(m.target, KnownEnterprise)]
    if not found:
        return None, None
    best = max(found, key=lambda m: (m.confidence, m.end - m.start))
    rivals = {id(m.target) for m in found if m.confidence >= best.confidence - 0.02
              and m.target is not best.target}
    confidence = best.confidence - (0.2 if rivals else 0.0)
    target = best.target
    assert isinstance(target, KnownEnterprise)
    return Suggestion(target.name, confidence, (prepared.evidence(best.start, best.end),),
                      {"registered": True, "enterprise_id": target.id}), (best.start, best.end)


def _enterprise(prepared: Prepared, matches: list[NameMatch]
                ) -> tuple[Suggestion | None, tuple[int, int] | None]:
    registered, span = _registered(prepared, matches)
    if registered is not None and registered.confidence >= MIN_ENTERPRISE:
        return registered, span
    names = find_company_names(prepared)
    if names:
        best = max(names, key=lambda n: (n.confidence, -n.start))
        return Suggestion(best.value, best.confidence,
                          (prepared.evidence(best.start, best.end),),
                          {"registered": False, "enterprise_id": None}), (best.start, best.end)
    return None, None


def _town(prepared: Prepared, matches: list[NameMatch], directory: Directory,
          enterprise: Suggestion | None) -> Suggestion | None:
    said = []
    for m in matches:
        if not isinstance(m.target, Town):
            continue
        exact = prepared.text[m.start:m.end] == m.alias
        marked = any(m.followed_by.startswith(w) for w in PLACE_MARKERS)
        if not exact and not marked:
            continue  # a homophone alone (上天 for 尚田) is no evidence
        said.append((m.confidence if exact else m.confidence - 0.15, -m.start, m))
    if said:
        confidence, _, best = max(said)
        town = best.target
        assert isinstance(town, Town)
        return Suggestion(town.value, confidence, (prepared.evidence(best.start, best.end),))
    if enterprise is not None and enterprise.extra.get("registered"):
        known = next((e for e in directory.enterprises
                      if e.id == enterprise.extra.get("enterprise_id")
                      and e.name == enterprise.value), None)
        seat = town_of(known.town if known else None, directory.towns)
        if seat is not None:
            return Suggestion(seat.value, round(enterprise.confidence * 0.75, 2),
                              enterprise.evidence, {"from_enterprise": True})
    return None


# Asked in nearly every voicemail ("有没有政策"): evidence of 产业政策 only when nothing else is.
WEAK_KEYWORDS = ("政策",)
# Where a caller introduces themself: "我是财务部的钱会计" says nothing about the request.
INTRO_CUES = ("我是", "我叫", "联系人", "我姓")


def _intro_spans(text: str, contact: ContactFound | None,
                 names: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The caller's name and role, and the company's name: not part of what they ask."""
    spans = list(names)
    if contact is not None:
        begin = max((text.rfind(cue, max(0, contact.start - 14), contact.start)
                     for cue in INTRO_CUES), default=-1)
        spans.append((begin if begin >= 0 else contact.start, contact.end))
    return spans


def _area(prepared: Prepared, hidden: list[tuple[int, int]]
          ) -> tuple[Suggestion | None, Suggestion | None]:
    spoken = prepared.masked(hidden).replaced(SPOKEN_TERMS)
    chosen = suggest_category(spoken.masked(_spans_of(spoken.text, WEAK_KEYWORDS)).text)
    if chosen is None:
        chosen = suggest_category(spoken.text)
    if chosen is None:
        return None, None
    category, subcategory = chosen
    keywords = sorted({k for s in suggest(spoken.text) if s.category == category
                       and s.subcategory == subcategory for k in s.keywords},
                      key=lambda k: spoken.text.find(k))
    evidence = tuple(spoken.evidence(spoken.text.find(k), spoken.text.find(k) + len(k))
                     for k in keywords if k in spoken.text)
    hits = len(keywords)
    confidence = 0.55 if hits <= 1 else 0.7 if hits == 2 else 0.85
    area = Suggestion(CATEGORIES[category], confidence, evidence, {"code": category})
    sub = None
    if subcategory is not None:
        label = SUBCATEGORIES[category][subcategory]
        sub = Suggestion(label, round(confidence * 0.95, 2), evidence,
                         {"code": subcategory, "area": category})
    return area, sub


def _spans_of(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    spans = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            spans.append((at, at + len(word)))
            at = text.find(word, at + 1)
    return spans


def extract(text: str, directory: Directory) -> Extraction:
    """The fields a person would type after reading (or hearing) ``text``."""
    prepared = prepare(text)
    matches = directory.matches(prepared.text)
    enterprise, enterprise_span = _enterprise(prepared, matches)
    contact = find_contact(prepared)
    phones = tuple(Suggestion(p.value, p.confidence, (p.evidence,)) for p in find_phones(prepared))
    code = find_uscc(prepared)
    uscc = (Suggestion(code.value, code.confidence, (code.evidence,),
                       {"checksum_ok": code.checksum_ok}) if code else None)
    area, subarea = _area(prepared, _intro_spans(
        prepared.text, contact, [enterprise_span] if enterprise_span else []))
    town = _town(prepared, matches, directory, enterprise)

    def kept(s: Suggestion | None) -> Suggestion | None:
        return s if s is not None and s.confidence >= MIN_CONFIDENCE else None

    return Extraction(
        enterprise=kept(enterprise),
        contact=kept(Suggestion(contact.value, contact.confidence, (contact.evidence,))
                     if contact else None),
        phones=tuple(p for p in phones if p.confidence >= MIN_CONFIDENCE),
        uscc=kept(uscc), area=kept(area), subarea=kept(subarea), town=kept(town),
    )
