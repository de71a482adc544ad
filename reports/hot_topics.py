"""Hot topics (热点分析): keywords per area, rising topics, repeat enterprises.

Each case received in the period is one document — not a voicemail still waiting for its
transcript (its text is a placeholder), not a repeat request merged into an earlier case
(并单: the earlier case already counts). A document's topic words:

- the domain's terms found in the text, whole (``topic_words.txt`` [terms]: 用电报装 stays
  one word whatever jieba does with it);
- the rest segmented with the hotline's shared vocabulary (:mod:`knowledge.segmentation`),
  less every word that is never a topic (``topic_words.txt`` [never]: how people ask, units,
  time words, places, fillers), numbers and quantities;
- two-word phrases: neighbouring words in the text (厂房 + 门口 …). A phrase becomes a topic
  when at least ``MIN_PHRASE_CASES`` cases use it and it holds at least ``PHRASE_SHARE`` of
  its rarer word's cases; a word that mostly comes in that phrase gives way to the phrase.

An area's keywords score ``share of the area's cases mentioning it × log((1 + N) / (1 +
cases mentioning it))`` over the period's N cases: frequent in the area, not everywhere. A
word rises when at least ``MIN_RISING`` cases mention it, and ``RISING_FACTOR`` times as many
as in the previous period of the same length. A repeat enterprise brought
``repeat_requests`` or more requests. ``reports/evaluation/hot_topics.csv`` is a labelled set
of requests; :func:`evaluate` measures the lists' precision@10 against it.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from cases.case_models import Assignment, Case
from cases.intake import VOICEMAIL_PLACEHOLDER
from cases.models import Enterprise
from cases.vocab import CATEGORY_LABELS, Status
from knowledge.segmentation import normalize, segment
from reports.indicators import Scope

WORDS_PATH = Path(__file__).with_name("topic_words.txt")
EVALUATION_PATH = Path(__file__).parent / "evaluation" / "hot_topics.csv"
MIN_RISING = 2
RISING_FACTOR = 1.5
RISING_LIMIT = 10
MIN_PHRASE_CASES = 2
PHRASE_SHARE = 0.6
_DIGIT = re.compile(r"\d")
_QUANTITY = re.compile(r"^[零〇一二两三四五六七八九十百千万亿几半多余第每]+"
                       r"[个件次名家台套吨元亩米天年月日周号期批项条位人户间栋层倍成]?$")
_LATIN = re.compile(r"^[a-z]+$")
# A person, as a caller names one: 王先生, 李经理, 张总.
_PERSON = re.compile(r"^[\u4e00-\u9fff]{1,2}(先生|女士|小姐|经理|老板|师傅|主任|总)$")


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[str, ...]  # longest first
    never: frozenset[str]
    pattern: re.Pattern[str] | None


@cache
def vocabulary(path: Path = WORDS_PATH) -> Vocabulary:
    sections: dict[str, list[str]] = defaultdict(list)
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line:
            sections[current].extend(normalize(word) for word in line.split())
    terms = tuple(sorted(set(sections["terms"]), key=lambda t: (-len(t), t)))
    pattern = re.compile("(" + "|".join(map(re.escape, terms)) + ")") if terms else None
    return Vocabulary(terms, frozenset(sections["never"]), pattern)


def _is_topic(word: str, never: frozenset[str]) -> bool:
    return (len(word) >= 2 and word not in never and not _DIGIT.search(word)
            and not _QUANTITY.match(word) and not _LATIN.match(word)
            and not _PERSON.match(word))


def topic_tokens(text: str) -> list[str]:
    """The request's topic words in order: domain terms whole, the rest segmented and
    filtered."""
    words = vocabulary()
    clean = normalize(text)
    pieces = words.pattern.split(clean) if words.pattern else [clean]
    tokens: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            tokens.append(piece)  # a domain term
        elif piece:
            tokens.extend(w for w in segment(piece) if _is_topic(w, words.never))
    return tokens


Phrase = tuple[str, str]


def topic_words(text: str) -> frozenset[str]:
    """The words of a request that can make a topic (phrases not included)."""
    return frozenset(topic_tokens(text))


def _phrases(text: str, tokens: Sequence[str]) -> frozenset[Phrase]:
    """Neighbouring topic words that stand next to each other in the text itself."""
    clean = normalize(text)
    return frozenset((a, b) for a, b in pairwise(tokens)
                     if a != b and a + b in clean)


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


@dataclass(frozen=True)
class Document:
    """One request text: its area, topic words and phrases, and how many cases have it."""

    area: str | None
    words: frozenset[str]
    phrases: frozenset[Phrase]
    cases: int = 1


def document(area: str | None, text: str, cases: int = 1) -> Document:
    tokens = topic_tokens(text)
    return Document(area, frozenset(tokens), _phrases(text, tokens), cases)


def _in_scope(scope: Scope) -> list[Any]:
    # A merged repeat request is part of the earlier case; a voicemail waiting for its
    # transcript has only the placeholder text.
    where = [scope.between(Case.received_on), Case.status != Status.MERGED,
             Case.description != VOICEMAIL_PLACEHOLDER]
    if scope.department_id is not None:
        where.append(exists().where(Assignment.case_id == Case.id,
                                    Assignment.department_id == scope.department_id))
    return where


def _documents(session: Session, scope: Scope) -> list[Document]:
    """Identical texts — templated channel messages, repeated requests — are segmented
    and counted once."""
    rows = session.execute(
        select(Case.category, Case.description, func.count())
        .where(*_in_scope(scope)).group_by(Case.category, Case.description))
    return [document(category, text, int(n)) for category, text, n in rows]


def _topic_cases(documents: Iterable[Document], phrases: dict[Phrase, str],
                 replaced: frozenset[str]) -> Counter[str]:
    """Cases per topic: the words (less those a phrase replaces) and the kept phrases."""
    counts: Counter[str] = Counter()
    for doc in documents:
        topics = {w for w in doc.words if w not in replaced}
        topics.update(phrases[p] for p in doc.phrases if p in phrases)
        for topic in topics:
            counts[topic] += doc.cases
    return counts


def choose_phrases(documents: Sequence[Document]) -> tuple[dict[Phrase, str], frozenset[str]]:
    """The phrases that make topics (as their text), and the words they replace."""
    words: Counter[str] = Counter()
    pairs: Counter[Phrase] = Counter()
    for doc in documents:
        for word in doc.words:
            words[word] += doc.cases
        for pair in doc.phrases:
            pairs[pair] += doc.cases
    vocab = vocabulary()
    kept: dict[Phrase, str] = {}
    replaced: set[str] = set()
    for (a, b), n in pairs.items():
        text = a + b
        if n < MIN_PHRASE_CASES or n < PHRASE_SHARE * min(words[a], words[b]):
            continue
        if text in vocab.never or a in vocab.terms or b in vocab.terms:
            continue  # a domain term reads best alone
        kept[(a, b)] = text
        replaced.update(w for w in (a, b) if n >= PHRASE_SHARE * words[w])
    return kept, frozenset(replaced)


def rank_areas(documents: Sequence[Document], limit: int) -> list[AreaTopics]:
    """Each area's ``limit`` best topics over ``documents`` (the period's requests)."""
    phrases, replaced = choose_phrases(documents)
    total = sum(doc.cases for doc in documents)
    frequency = _topic_cases(documents, phrases, replaced)
    by_area: dict[str | None, list[Document]] = defaultdict(list)
    for doc in documents:
        by_area[doc.area].append(doc)
    areas = []
    for area in [*CATEGORY_LABELS, None]:
        docs = by_area.get(area)
        if not docs:
            continue
        in_area = _topic_cases(docs, phrases, replaced)
        size = sum(doc.cases for doc in docs)
        scored = [Keyword(word, n / size * math.log((1 + total) / (1 + frequency[word])), n)
                  for word, n in in_area.items()]
        # Ties (the same score) fall back to the more frequent, then the word itself.
        scored.sort(key=lambda k: (-k.score, -k.cases, k.word))
        areas.append(AreaTopics(area, CATEGORY_LABELS.get(area or "", "未分类"), size,
                                scored[:limit]))
    return areas


def hot_topics(session: Session, scope: Scope, per_area: int | None = None) -> HotTopics:
    """The period's hot topics (a department: the cases it was assigned)."""
    limit = per_area or scope.settings.keywords_per_area
    documents = _documents(session, scope)
    phrases, replaced = choose_phrases(documents)
    frequency = _topic_cases(documents, phrases, replaced)
    before = _documents(session, replace(scope, period=scope.period.previous()))
    previous = _topic_cases(before, phrases, replaced)
    rising = [Rising(word, n, previous.get(word, 0)) for word, n in frequency.items()
              if n >= MIN_RISING and n >= RISING_FACTOR * previous.get(word, 0)
              and n > previous.get(word, 0)]
    rising.sort(key=lambda r: (-(r.current - r.previous), r.word))
    return HotTopics(rank_areas(documents, limit), rising[:RISING_LIMIT],
                     repeat_enterprises(session, scope))


# -- measured on a labelled set -------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """precision@k of each area's list against the topics people named for its requests."""

    k: int
    areas: dict[str, tuple[int, int]]  # label: (hits, listed)
    lists: dict[str, list[str]]

    @property
    def precision(self) -> float:
        hits = sum(h for h, _n in self.areas.values())
        listed = sum(n for _h, n in self.areas.values())
        return hits / listed if listed else 0.0


def labelled_set(path: Path = EVALUATION_PATH) -> list[tuple[str, str, frozenset[str]]]:
    """(area, request text, expected topics) of the labelled set."""
    with path.open(encoding="utf-8", newline="") as source:
        return [(row["area"], row["text"], frozenset(normalize(t) for t in
                                                      row["topics"].split("|") if t))
                for row in csv.DictReader(source)]


def evaluate(path: Path = EVALUATION_PATH, k: int = 10) -> Evaluation:
    """Rank the labelled requests as one period; a listed topic counts when a person named
    it as the topic of one of that area's requests."""
    rows = labelled_set(path)
    expected: dict[str, set[str]] = defaultdict(set)
    for area, _text, topics in rows:
        expected[area] |= topics
    ranked = rank_areas([document(area, text) for area, text, _t in rows], k)
    areas, lists = {}, {}
    for found in ranked:
        words = [keyword.word for keyword in found.keywords]
        hits = sum(1 for word in words if word in expected[found.area or ""])
        areas[found.label] = (hits, len(words))
        lists[found.label] = words
    return Evaluation(k, areas, lists)


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
