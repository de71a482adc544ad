"""Hot topics (热点分析): TF-IDF keywords per area, rising topics, repeat enterprises.

Each case received in the period is one document, segmented with the hotline's shared
vocabulary (:mod:`knowledge.segmentation`: the notice's terms and the routing vocabulary),
less the words every request uses (:data:`REQUEST_WORDS`). An area's keywords score
``share of the area's cases mentioning the word × log((1 + N) / (1 + cases mentioning it))``
over the period's N cases: frequent in the area, not everywhere. A word rises when at least
``MIN_RISING`` cases mention it, and ``RISING_FACTOR`` times as many as in the previous
period of the same length. A repeat enterprise brought ``repeat_requests`` or more requests.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from cases.case_models import Assignment, Case
from cases.models import Enterprise
from cases.vocab import CATEGORY_LABELS
from knowledge.segmentation import segment
from reports.indicators import Scope

# Words of how people ask, not of what they ask about: never a topic.
REQUEST_WORDS = frozenset([
    "公司", "企业", "咨询", "问题", "希望", "需要", "请问", "办理", "怎么", "如何", "什么",
    "什么时候", "能否", "是否", "可以", "一下", "情况", "反映", "相关",
])
MIN_RISING = 2
RISING_FACTOR = 1.5
RISING_LIMIT = 10


@dataclass(frozen=True)
class Keyword:
    word: str
    score: float
    cases: int


@dataclass(frozen=True)
class AreaTopics:
    area: str | None
    label: str
    cases: int
    keywords: list[Keyword]


@dataclass(frozen=True)
class Rising:
    word: str
    current: int
    previous: int


@dataclass(frozen=True)
class RepeatEnterprise:
    enterprise_id: int
    name: str
    cases: int


@dataclass(frozen=True)
class HotTopics:
    areas: list[AreaTopics] = field(default_factory=list)
    rising: list[Rising] = field(default_factory=list)
    repeat_enterprises: list[RepeatEnterprise] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "areas": [{"area": a.area, "label": a.label, "cases": a.cases,
                       "keywords": [{"word": k.word, "score": round(k.score, 4),
                                     "cases": k.cases} for k in a.keywords]}
                      for a in self.areas],
            "rising": [{"word": r.word, "current": r.current, "previous": r.previous}
                       for r in self.rising],
            "repeat_enterprises": [{"enterprise_id": e.enterprise_id, "name": e.name,
                                    "cases": e.cases} for e in self.repeat_enterprises],
        }


def _in_scope(scope: Scope) -> list[Any]:
    where = [scope.between(Case.received_on)]
    if scope.department_id is not None:
        where.append(exists().where(Assignment.case_id == Case.id,
                                    Assignment.department_id == scope.department_id))
    return where


Documents = list[tuple[str | None, frozenset[str], int]]


def _documents(session: Session, scope: Scope) -> Documents:
    """(area, words, how many cases have this very text): identical texts — templated
    channel messages, repeated requests — are segmented and counted once."""
    rows = session.execute(
        select(Case.category, Case.description, func.count())
        .where(*_in_scope(scope)).group_by(Case.category, Case.description))
    return [(category, topic_words(text), int(n)) for category, text, n in rows]


def topic_words(text: str) -> frozenset[str]:
    """The words of a request that can make a topic."""
    return frozenset(w for w in segment(text) if w not in REQUEST_WORDS and len(w) >= 2)


def _word_cases(documents: Documents) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _area, words, n in documents:
        for word in words:
            counts[word] += n
    return counts


def hot_topics(session: Session, scope: Scope, per_area: int | None = None) -> HotTopics:
    """The period's hot topics (a department: the cases it was assigned)."""
    limit = per_area or scope.settings.keywords_per_area
    documents = _documents(session, scope)
    total = sum(n for *_rest, n in documents)
    document_frequency = _word_cases(documents)
    by_area: dict[str | None, Documents] = defaultdict(list)
    for document in documents:
        by_area[document[0]].append(document)
    areas = []
    for area in [*CATEGORY_LABELS, None]:
        docs = by_area.get(area)
        if not docs:
            continue
        in_area = _word_cases(docs)
        size = sum(n for *_rest, n in docs)
        scored = [Keyword(word, n / size * math.log((1 + total) /
                                                    (1 + document_frequency[word])), n)
                  for word, n in in_area.items()]
        # Ties (the same score) fall back to the more frequent, then the word itself.
        scored.sort(key=lambda k: (-k.score, -k.cases, k.word))
        areas.append(AreaTopics(area, CATEGORY_LABELS.get(area or "", "未分类"), size,
                                scored[:limit]))
    previous = _word_cases(_documents(session, replace(scope, period=scope.period.previous())))
    rising = [Rising(word, n, previous.get(word, 0)) for word, n in document_frequency.items()
              if n >= MIN_RISING and n >= RISING_FACTOR * previous.get(word, 0)
              and n > previous.get(word, 0)]
    rising.sort(key=lambda r: (-(r.current - r.previous), r.word))
    return HotTopics(areas, rising[:RISING_LIMIT], repeat_enterprises(session, scope))


def repeat_enterprises(session: Session, scope: Scope) -> list[RepeatEnterprise]:
    threshold = scope.settings.repeat_requests
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, func.count(Case.id))
        .join(Case, and_(Case.enterprise_id == Enterprise.id, *_in_scope(scope)))
        .group_by(Enterprise.id, Enterprise.name)
        .having(func.count(Case.id) >= threshold)
        .order_by(func.count(Case.id).desc(), Enterprise.name)
    ).all()
    return [RepeatEnterprise(i, name, int(n)) for i, name, n in rows]


def cases_mentioning(word: str, scope: Scope, area: str | None = None) -> Any:
    """The ids of the period's cases whose request mentions ``word`` (a topic's link)."""
    stmt = select(Case.id).where(*_in_scope(scope), Case.description.contains(word,
                                                                             autoescape=True))
    if area:
        stmt = stmt.where(Case.category == area)
    return stmt
