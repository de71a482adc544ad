"""Search in the database: the same tokens and the same score on SQLite and PostgreSQL.

Each article is stored in ``kb_search`` as four space-separated token strings — title,
question phrasings, answer, and the character bigrams of title and phrasings (which still
meet a query whose words a speech model got slightly wrong: “专班上办” shares the bigram 专班
with 专班商办). Both databases answer in SQL, so every web process sees the same index; the
full-text index only finds the candidates:

- SQLite: an FTS5 table (``MATCH``).
- PostgreSQL: a generated ``tsvector`` column (``to_tsvector('simple', …)``, weighted per
  field) with a GIN index; a cheap ``ts_rank`` keeps the best ``PG_POOL`` candidates.

The score is computed the same way on both, in SQL: for every concept of the query (a word
with its synonyms and colloquial equivalents, or a bigram) the best of its terms counts, as
the term's IDF times the weights of the fields it appears in (title, phrasings, answer,
bigrams). Nothing in it depends on other articles except the IDF, and the IDF comes from
``kb_term_stats``, which counts published articles only, per validity range: drafts,
withdrawn articles and articles not in force on the day searched never change a ranking.

Query words are first read through the shipped dictionary of how callers say things
(``colloquial.txt``: 借钱 → 贷款, 地块 → 用地, 哪能了 → 进度, speech-recognition slips), then
expanded with the administrator's synonym groups. Only the most informative concepts (by IDF)
of a long text are kept, so a two-minute transcript costs what a question does, and the
candidates come from the rarest terms within a budget.

Every hit carries a **relevance** between 0 and 1: the share of the query's information (the
IDF of its concepts, words the knowledge base does not know included) that the article
covers. Below ``NO_ANSWER_BELOW`` a hit is not an answer: ``search`` leaves it out, so a query
the knowledge base cannot answer gets no result rather than a weak one. The threshold is
calibrated on the evaluation set (``flask kb evaluate --calibrate``; docs/knowledge.md).

Long on purpose: indexing, the statistics and the score are one contract: the same tokens
and weights must be written and read by both databases, and a change to one side without the
other silently changes every ranking.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from core.dialect import insert_or_ignore, is_postgresql, is_sqlite
from knowledge import segmentation
from knowledge.models import (
    FIRST_DAY,
    LAST_DAY,
    Article,
    ArticleState,
    CountedArticle,
    SynonymGroup,
    TermStat,
)

# Field weights of a term found in the title, the phrasings, the answer, the bigrams.
FIELD_WEIGHTS = {"title": 1.0, "questions": 0.6, "answer": 0.25, "grams": 0.3}
# Concepts kept from a long text (the most informative ones), and bigram concepts at most.
MAX_CONCEPTS = 8
MAX_GRAMS = 6
# Candidates the database finds and ranks first (SQLite's bm25 with these column weights,
# PostgreSQL's ts_rank with these weights of D, C, B, A), which then get the score.
POOL = 30
SQLITE_BM25_WEIGHTS = "8.0, 5.0, 1.0, 0.6"  # title, questions, answer, grams
PG_RANK_WEIGHTS = "{0.15, 0.25, 0.6, 1.0}"  # grams, answer, questions, title
# Best-scored candidates whose relevance is computed; the hits are ordered by relevance,
# then score (an article that covers more of the question first).
RELEVANCE_POOL = 30
# About how many articles the candidate-finding terms may match in all (both databases).
CANDIDATE_BUDGET = 1000
# Bigrams only for short texts (questions); a long transcript has words enough.
GRAMS_UP_TO = 40
DOCS_KEY = " docs"  # the kb_term_stats row counting articles (no token has a space)
# Relevance: a query word the knowledge base does not know counts this share of the IDF of
# a word found in one article; a concept met only through its bigrams counts this share.
UNKNOWN_WEIGHT = 0.75
GRAM_CREDIT = 0.5
# Below this relevance a hit is not a good answer (calibrated: docs/knowledge.md).
NO_ANSWER_BELOW = 0.3
# Bump when a change of ``index_fields`` (or what it calls here) changes the stored tokens of
# the same article: the index is then rebuilt in the background (knowledge.index_state).
INDEX_VERSION = 1
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
# A verb-object word split by a potential complement (离合词): 纳不了管 is 纳管, 贷不到款 is 贷款,
# 办不下证 is 办证. Only where the rejoined pair is a word of the hotline's own dictionary.
_SPLIT_WORD = re.compile(r"([\u3400-\u9fff])(?:不了|不到|不上|不进|不成|不下|不起|得了|得到)"
                         r"(?=([\u3400-\u9fff]))")


@dataclass(frozen=True)
class IndexedFields:
    title: str
    questions: str
    answer: str
    grams: str

    def tokens(self) -> set[str]:
        return {t for part in (self.title, self.questions, self.answer, self.grams)
                for t in part.split()}


@dataclass(frozen=True)
class Hit:
    """One ranked article with the query words it matched and how well it answers."""

    article_id: int
    title: str
    score: float
    matched: list[str] = field(default_factory=list)
    relevance: float = 0.0


@dataclass(frozen=True)
class Concept:
    """One thing the caller said: a word and its equivalents, or a character bigram.

    ``parts`` are the dictionary words inside a long word (服务中心 in 综合服务中心), each with
    its share of the word's length: an article with only a part counts that share.
    """

    terms: tuple[str, ...]
    parts: tuple[tuple[str, float], ...] = ()
    gram: bool = False
    word_grams: tuple[str, ...] = ()  # the bigrams of the word itself

    def every_term(self) -> list[tuple[str, float]]:
        return [*((t, 1.0) for t in self.terms), *self.parts]


@dataclass(frozen=True)
class Query:
    concepts: list[Concept]
    short: bool = True  # a question rather than a long text (a transcript)

    @property
    def words(self) -> list[str]:
        """Terms of the word concepts (the words, their synonyms and equivalents)."""
        return list(dict.fromkeys(t for c in self.concepts if not c.gram for t in c.terms))

    @property
    def grams(self) -> list[str]:
        return [c.terms[0] for c in self.concepts if c.gram]

    def terms(self) -> list[str]:
        return list(dict.fromkeys(t for c in self.concepts for t, _ in c.every_term()))


def _clean(token: str) -> str:
    # Only letters and digits reach the index: FTS5 and tsquery syntax never see an operator.
    return "".join(ch for ch in token if ch.isalnum())


def _tokens(text_value: str) -> list[str]:
    return [t for t in (_clean(w) for w in segmentation.segment_for_search(text_value)) if t]


def bigrams(text_value: str) -> list[str]:
    """Character bigrams of every run of Chinese characters."""
    grams: list[str] = []
    stop = segmentation.STOPWORDS
    for run in _CJK_RUN.findall(segmentation.normalize(text_value)):
        pairs = (run[i:i + 2] for i in range(len(run) - 1))
        # “的问”, “怎么”: a pair with a filler character matches everything and means nothing.
        grams.extend(p for p in pairs if p not in stop and p[0] not in stop and p[1] not in stop)
    return grams


def index_fields(title: str, questions: Sequence[str], answer: str) -> IndexedFields:
    """The token strings stored for an article."""
    phrasings = "\n".join(questions)
    return IndexedFields(
        title=" ".join(_tokens(title)),
        questions=" ".join(_tokens(phrasings)),
        answer=" ".join(_tokens(answer)),
        grams=" ".join(bigrams(title) + bigrams(phrasings)),
    )


# -- synonyms ----------------------------------------------------------------------------


def parse_synonyms(text_value: str) -> list[list[str]]:
    """Groups from text: one group per line, words separated by spaces, commas or slashes."""
    groups: list[list[str]] = []
    for line in text_value.splitlines():
        line = line.split("#", 1)[0]
        words = [w for w in re.split(r"[\s,，、/|]+", line) if w]
        words = list(dict.fromkeys(segmentation.normalize(w) for w in words))
        if len(words) >= 2:
            groups.append(words)
    return groups


def synonym_map(session: Session) -> dict[str, set[str]]:
    """word → the other words of its groups."""
    mapping: dict[str, set[str]] = {}
    for line in session.scalars(select(SynonymGroup.words)):
        words = line.split()
        for word in words:
            mapping.setdefault(word, set()).update(w for w in words if w != word)
    return mapping


def replace_synonyms(session: Session, text_value: str, now: object) -> int:
    """Replace every synonym group with those in ``text_value``; returns the group count."""
    groups = parse_synonyms(text_value)
    session.execute(delete(SynonymGroup))
    session.add_all(SynonymGroup(words=" ".join(g), updated_at=now) for g in groups)
    segmentation.add_words(w for g in groups for w in g)
    return len(groups)


def synonyms_text(session: Session) -> str:
    return "\n".join(session.scalars(select(SynonymGroup.words).order_by(SynonymGroup.id)))


# -- the dictionary of titles ---------------------------------------------------------------

_titles_loaded = False


def load_titles(session: Session) -> None:
    """Add every article title (and synonym) to this process's user dictionary, once."""
    global _titles_loaded
    if _titles_loaded:
        return
    segmentation.add_words(session.scalars(select(Article.title)))
    segmentation.add_words(w for line in session.scalars(select(SynonymGroup.words))
                           for w in line.split())
    _titles_loaded = True


# -- writing the index ----------------------------------------------------------------------


def _stored(session: Session, article_id: int) -> IndexedFields | None:
    column = "rowid" if is_sqlite(session) else "article_id"
    row = session.execute(
        text(f"SELECT title, questions, answer, grams FROM kb_search WHERE {column} = :id"),
        {"id": article_id},
    ).first()
    return IndexedFields(*row) if row else None


Window = tuple[date, date]


def _window(article: Article) -> Window:
    return article.valid_from or FIRST_DAY, article.valid_until or LAST_DAY


def _adjust_stats(session: Session, tokens: Iterable[str], window: Window, delta: int) -> None:
    tokens = sorted({t[:100] for t in tokens})
    if not tokens or not delta:
        return
    low, high = window
    session.execute(insert_or_ignore(
        session, TermStat,
        [{"token": t, "valid_from": low, "valid_until": high, "df": 0} for t in tokens],
        index_elements=["token", "valid_from", "valid_until"]))
    in_window = (TermStat.token.in_(tokens), TermStat.valid_from == low,
                 TermStat.valid_until == high)
    session.execute(update(TermStat).where(*in_window).values(df=TermStat.df + delta)
                    .execution_options(synchronize_session=False))
    if delta < 0:
        session.execute(delete(TermStat).where(*in_window, TermStat.df <= 0)
                        .execution_options(synchronize_session=False))


def _recount(session: Session, article: Article, old: set[str], new: set[str]) -> None:
    """Keep ``kb_term_stats`` counting the article's tokens exactly while it is published."""
    counted = session.execute(
        select(CountedArticle.valid_from, CountedArticle.valid_until)
        .where(CountedArticle.article_id == article.id)).first()
    live = article.state == ArticleState.PUBLISHED
    window = _window(article)
    if counted is not None and live and tuple(counted) == window:
        _adjust_stats(session, old - new, window, -1)
        _adjust_stats(session, new - old, window, +1)
        return
    if counted is not None:
        _adjust_stats(session, old | {DOCS_KEY}, (counted[0], counted[1]), -1)
        session.execute(delete(CountedArticle).where(CountedArticle.article_id == article.id))
    if live:
        _adjust_stats(session, new | {DOCS_KEY}, window, +1)
        session.execute(insert(CountedArticle).values(
            article_id=article.id, valid_from=window[0], valid_until=window[1]))


def index_article(session: Session, article: Article) -> IndexedFields:
    """Store (or replace) the article's tokens and update the document frequencies."""
    segmentation.add_words([article.title])
    fields = index_fields(article.title, article.questions, article.answer)
    old = _stored(session, article.id)
    _recount(session, article, old.tokens() if old else set(), fields.tokens())
    values = {"id": article.id, "title": fields.title, "questions": fields.questions,
              "answer": fields.answer, "grams": fields.grams}
    if is_sqlite(session):
        session.execute(text("DELETE FROM kb_search WHERE rowid = :id"), {"id": article.id})
        session.execute(text(
            "INSERT INTO kb_search (rowid, title, questions, answer, grams) "
            "VALUES (:id, :title, :questions, :answer, :grams)"), values)
    else:
        session.execute(text(
            "INSERT INTO kb_search (article_id, title, questions, answer, grams) "
            "VALUES (:id, :title, :questions, :answer, :grams) "
            "ON CONFLICT (article_id) DO UPDATE SET title = EXCLUDED.title, "
            "questions = EXCLUDED.questions, answer = EXCLUDED.answer, grams = EXCLUDED.grams"),
            values)
        _copy_filters(session, article)
    return fields


def sync_filters(session: Session, article: Article) -> None:
    """After a change of state, validity or the phone flag: statistics and filters follow."""
    stored = _stored(session, article.id)
    if stored is None:
        return
    tokens = stored.tokens()
    _recount(session, article, tokens, tokens)
    if is_postgresql(session):
        _copy_filters(session, article)


def _copy_filters(session: Session, article: Article) -> None:
    """Copy state, validity and the phone flag into PostgreSQL's index row (SQLite joins)."""
    session.execute(text(
        "UPDATE kb_search SET published = :published, phone = :phone, "
        "valid_from = :valid_from, valid_until = :valid_until WHERE article_id = :id"),
        {"id": article.id, "published": article.state == ArticleState.PUBLISHED,
         "phone": bool(article.phone), "valid_from": article.valid_from,
         "valid_until": article.valid_until})


def remove_article(session: Session, article_id: int) -> None:
    old = _stored(session, article_id)
    if old is None:
        return
    counted = session.execute(
        select(CountedArticle.valid_from, CountedArticle.valid_until)
        .where(CountedArticle.article_id == article_id)).first()
    if counted is not None:
        _adjust_stats(session, old.tokens() | {DOCS_KEY}, (counted[0], counted[1]), -1)
        session.execute(delete(CountedArticle).where(CountedArticle.article_id == article_id))
    column = "rowid" if is_sqlite(session) else "article_id"
    session.execute(text(f"DELETE FROM kb_search WHERE {column} = :id"), {"id": article_id})


def reindex_all(session: Session) -> int:
    """Segment every article again (after a change of the dictionaries); returns the count."""
    session.execute(delete(TermStat))
    session.execute(delete(CountedArticle))
    session.execute(text("DELETE FROM kb_search"))
    articles = list(session.scalars(select(Article).order_by(Article.id)))
    segmentation.add_words(a.title for a in articles)
    for article in articles:
        index_article(session, article)
    return len(articles)


# -- querying -------------------------------------------------------------------------------


def _add(concepts: list[tuple[list[str], dict[str, float]]], terms: Iterable[str],
         parts: dict[str, float] | None = None) -> None:
    """Add a concept, or fold it into one that shares a term (no term counts twice)."""
    core = [t for t in dict.fromkeys(_clean(t) for t in terms) if t]
    if not core:
        return
    for known, known_parts in concepts:
        if set(known) & set(core):
            known += [t for t in core if t not in known]
            for part, share in (parts or {}).items():
                known_parts[part] = max(share, known_parts.get(part, 0.0))
            return
    concepts.append((core, dict(parts or {})))


def split_words(text_value: str) -> list[str]:
    """Dictionary words the caller said with a potential complement inside (纳不了管 → 纳管)."""
    known = segmentation.user_words()
    spoken = segmentation.colloquial()
    found = (first + second for first, second in
             _SPLIT_WORD.findall(segmentation.normalize(text_value)))
    return list(dict.fromkeys(w for w in found if w in known or w in spoken))


def build_query(session: Session, text_value: str) -> Query:
    """Concepts of the query: its words with their equivalents and, for short texts, bigrams.

    A one-character word is dropped (去, 打, 跑 say nothing) unless the colloquial dictionary
    knows it (钱, 证, 电).
    """
    load_titles(session)
    spoken = segmentation.colloquial()
    synonyms = synonym_map(session)

    def expanded(word: str) -> list[str]:
        targets = spoken.get(word, ())
        return [word, *targets,
                *(s for w in (word, *targets) for s in sorted(synonyms.get(w, ())))]

    said = segmentation.words_as_said(text_value)
    spoken_text = "".join(said)
    bounds = {0}
    for word in said:
        bounds.add(max(bounds) + len(word))

    def is_said(key: str) -> bool:
        """The caller's word stands as whole words (招人 is not said in “招人才”)."""
        start = spoken_text.find(key)
        while start >= 0:
            if start in bounds and start + len(key) in bounds:
                return True
            start = spoken_text.find(key, start + 1)
        return False

    concepts: list[tuple[list[str], dict[str, float]]] = []
    for raw, inner in segmentation.segment_with_parts(text_value):
        word = _clean(raw)
        if not word or (len(word) == 1 and word not in spoken):
            continue
        parts = {_clean(p): len(p) / len(word) for p in inner}
        _add(concepts, expanded(word), {p: share for p, share in parts.items() if p})
    for key, targets in spoken.items():
        if key in spoken_text and is_said(key):
            _add(concepts, [t for w in targets for t in expanded(w)])
    for rejoined in split_words(text_value):
        _add(concepts, expanded(rejoined))
    result = [Concept(tuple(core), tuple((p, share) for p, share in parts.items()
                                         if p not in core), word_grams=tuple(bigrams(core[0])))
              for core, parts in concepts]
    short = len(spoken_text) <= GRAMS_UP_TO
    if short:
        known = {t for c in result for t, _ in c.every_term()}
        result += [Concept((g,), gram=True)
                   for g in dict.fromkeys(bigrams(text_value)) if g not in known]
    return Query(result, short)


@dataclass(frozen=True)
class _Terms:
    idf: dict[str, float]  # terms of the kept concepts present in the index, with their IDF
    concepts: list[Concept]  # the kept concepts (most informative first), present terms only
    selective: list[str]  # terms rare enough to find the candidates with
    # Even the rarest is in more articles than the budget (“中心”): look in titles and
    # phrasings only rather than rank most of the articles.
    common_only: bool = False
    unknown_idf: float = 0.0  # the IDF of a word in no article: for the relevance


def _live_df(session: Session, terms: list[str], today: date) -> dict[str, int]:
    """Document frequencies among articles published and in force on ``today``."""
    rows = session.execute(
        select(TermStat.token, func.sum(TermStat.df))
        .where(TermStat.token.in_([*terms, DOCS_KEY]), TermStat.valid_from <= today,
               TermStat.valid_until >= today)
        .group_by(TermStat.token)).tuples().all()
    return {token: int(df) for token, df in rows if df}


def _concept_idf(concept: Concept, idf: dict[str, float]) -> float:
    return max(share * idf[t] for t, share in concept.every_term())


def _informative(session: Session, query: Query, today: date) -> _Terms:
    """The query's most informative concepts present in the index, with their terms' IDF."""
    terms = query.terms()
    if not terms:
        return _Terms({}, [], [])
    df = _live_df(session, terms, today)
    total = max(df.pop(DOCS_KEY, 0), 1)
    idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in df.items()}
    present = [Concept(tuple(t for t in c.terms if t in idf),
                       tuple((t, share) for t, share in c.parts if t in idf), c.gram)
               for c in query.concepts]
    ranked = sorted((c for c in present if c.terms or c.parts),
                    key=lambda c: -_concept_idf(c, idf))
    kept = ([c for c in ranked if not c.gram][:MAX_CONCEPTS]
            + [c for c in ranked if c.gram][:MAX_GRAMS])
    kept_terms = list(dict.fromkeys(t for c in kept for t, _ in c.every_term()))
    # Candidates come from the rarest terms, as many as fit in the budget: a common word adds
    # little to a score but would make most articles candidates; it still counts in the score
    # of the candidates the rarer terms found.
    selective: list[str] = []
    found = 0
    for term in sorted(kept_terms, key=lambda t: (df[t], kept_terms.index(t))):
        if selective and found + df[term] > CANDIDATE_BUDGET:
            break
        selective.append(term)
        found += df[term]
    return _Terms({t: idf[t] for t in kept_terms}, kept, selective,
                  common_only=bool(selective) and found > CANDIDATE_BUDGET,
                  unknown_idf=math.log(1 + (total + 0.5) / 1.5))


def _filters(phone_only: bool, published_only: bool, table: str = "a") -> str:
    conditions = []
    if published_only:
        conditions += [
            "s.published = true" if table == "s"
            else f"a.state = '{ArticleState.PUBLISHED.value}'",
            f"({table}.valid_from IS NULL OR {table}.valid_from <= :today)",
            f"({table}.valid_until IS NULL OR {table}.valid_until >= :today)",
        ]
    if phone_only:
        conditions.append(f"{table}.phone = true")
    return "".join(f" AND {c}" for c in conditions)


@dataclass(frozen=True)
class _Candidate:
    article_id: int
    title: str
    fields: dict[str, str]  # field → its tokens, space-separated, with a space at both ends

    def everything(self) -> str:
        return "".join(self.fields.values())


def _padded(value: str | None) -> str:
    return f" {value or ''} "


def score(terms: _Terms, fields: dict[str, str]) -> float:
    """Per concept its best term: the term's IDF (times its share of the word, for a word
    inside a longer one) times the weights of the fields it appears in.

    ``fields`` holds each field's tokens space-separated with a space at both ends.
    """
    total = 0.0
    for concept in terms.concepts:
        best = 0.0
        for term, share in concept.every_term():
            needle = f" {term} "
            weight = sum(w for name, w in FIELD_WEIGHTS.items() if needle in fields[name])
            best = max(best, share * terms.idf[term] * weight)
        total += best
    return total


def relevance(query: Query, terms: _Terms, stored: str) -> tuple[float, list[str]]:
    """The share of the query's information the article covers, and the words it matched.

    ``stored`` is the article's tokens, space-separated with a space at both ends.

    Each word concept weighs the IDF of its word (for a short query, a word the knowledge base
    does not know weighs ``UNKNOWN_WEIGHT`` of a word in one article: the question is about
    something else); it is covered when one of its terms is in the article, by its share when
    only a word inside it is, by ``GRAM_CREDIT`` when only one of its bigrams is. Bigram
    concepts of the query add no weight of their own: they stand in for misheard words.
    """
    total = covered = 0.0
    matched: list[str] = []
    grams = query.grams
    gram_share = (sum(1 for g in grams if f" {g} " in stored) / len(grams)) if grams else 0.0
    kept = {c.terms: c for c in terms.concepts if c.terms}
    kept_parts = {c.parts: c for c in terms.concepts if not c.terms}
    for concept in query.concepts:
        if concept.gram:
            continue
        present = tuple(t for t in concept.terms if t in terms.idf)
        parts = tuple((t, share) for t, share in concept.parts if t in terms.idf)
        if present:
            if present not in kept:
                continue  # a long text's common concept, dropped from the query
            weight = max(terms.idf[t] for t in present)
        elif (parts and parts in kept_parts) or query.short:
            weight = UNKNOWN_WEIGHT * terms.unknown_idf
        else:
            continue
        total += weight
        hits = [t for t in present if f" {t} " in stored]
        part_hits = [(t, share) for t, share in parts if f" {t} " in stored]
        if hits:
            covered += weight
            matched.append(hits[0])
        elif part_hits:
            part, share = max(part_hits, key=lambda p: p[1])
            covered += share * weight
            matched.append(part)
        elif any(f" {g} " in stored for g in concept.word_grams):
            covered += GRAM_CREDIT * weight
        else:  # a misheard word: the query's bigrams the article shares stand in for it
            covered += GRAM_CREDIT * gram_share * weight
    # “服务” adds nothing next to “服务中心”.
    matched = [w for w in matched if not any(w != o and w in o for o in matched)]
    if not matched:
        matched = [g for g in query.grams if f" {g} " in stored and g in terms.idf][:3]
    return (covered / total if total else 0.0), matched


# PostgreSQL's planner does not count the cost of reading (and de-TOASTing) every tsvector, so
# on a few thousand articles it prefers a sequential scan — or a full scan of the primary key —
# to the GIN index (≈4× slower here). Off for this statement.
_PG_PLAN = ("enable_seqscan", "enable_indexscan")


def _execute(session: Session, sql: Any, params: dict[str, object]) -> list[Any]:
    if not is_postgresql(session):
        return list(session.execute(sql, params))
    def plan(value: str) -> Any:  # one round trip for the settings (transaction-local)
        return text("SELECT " + ", ".join(f"set_config('{s}', '{value}', true)"
                                          for s in _PG_PLAN))

    session.execute(plan("off"))
    try:
        return list(session.execute(sql, params))
    finally:
        session.execute(plan("on"))


def _candidates(session: Session, terms: _Terms, *, today: date, phone_only: bool,
                published_only: bool) -> list[_Candidate]:
    """The ``POOL`` candidates the database finds and ranks first, with their stored tokens.

    SQLite orders FTS5's matches by its ``bm25()``, PostgreSQL the GIN index's by ``ts_rank``;
    either only chooses which candidates get the score (SQLite's own statistics include every
    indexed article, so a draft may change which hundred are scored, never a score).
    """
    params: dict[str, object] = {"today": today, "pool": POOL}
    if is_sqlite(session):
        match = " OR ".join(f'"{t}"' for t in terms.selective)
        params["match"] = "{title questions} : (" + match + ")" if terms.common_only else match
        sql = text(
            "SELECT s.rowid, a.title, s.title, s.questions, s.answer, s.grams "
            "FROM kb_search s JOIN kb_articles a ON a.id = s.rowid "
            f"WHERE kb_search MATCH :match{_filters(phone_only, published_only, 'a')} "
            f"ORDER BY bm25(kb_search, {SQLITE_BM25_WEIGHTS}) LIMIT :pool")
    else:
        params["match"] = " | ".join(terms.selective)
        sql = text(
            "SELECT c.article_id, a.title, c.title, c.questions, c.answer, c.grams FROM ("
            " SELECT s.article_id, s.title, s.questions, s.answer, s.grams FROM kb_search s"
            f" WHERE s.{'head' if terms.common_only else 'vector'}"
            f" @@ to_tsquery('simple', :match){_filters(phone_only, published_only, 's')}"
            f" ORDER BY ts_rank('{PG_RANK_WEIGHTS}', s.vector, to_tsquery('simple', :match), 1)"
            " DESC LIMIT :pool) c JOIN kb_articles a ON a.id = c.article_id")
    if published_only:
        sql = sql.bindparams(bindparam("today", type_=Date()))
    else:
        del params["today"]
    return [_Candidate(row[0], row[1], {name: _padded(value) for name, value
                                        in zip(FIELD_WEIGHTS, row[2:], strict=True)})
            for row in _execute(session, sql, params)]


def search(session: Session, query_text: str, *, today: date, limit: int = 10,
           phone_only: bool = False, published_only: bool = True,
           min_relevance: float = NO_ANSWER_BELOW) -> list[Hit]:
    """Ranked articles for ``query_text``: published and in force on ``today`` by default.

    The best-scored candidates are ordered by relevance, then score (an article that covers
    more of the question first); hits below ``min_relevance`` are left out (0 keeps all).
    """
    query = build_query(session, query_text)
    terms = _informative(session, query, today)
    if not terms.idf:
        return []
    found = _candidates(session, terms, today=today, phone_only=phone_only,
                        published_only=published_only)
    scored = sorted(((score(terms, c.fields), c) for c in found),
                    key=lambda pair: (-pair[0], pair[1].article_id))[:max(limit, RELEVANCE_POOL)]
    hits = []
    for points, candidate in scored:
        share, matched = relevance(query, terms, candidate.everything())
        if share >= min_relevance:
            hits.append(Hit(article_id=candidate.article_id, title=candidate.title,
                            score=round(points, 6), matched=matched, relevance=round(share, 4)))
    hits.sort(key=lambda h: (-round(h.relevance, 2), -h.score, h.article_id))
    return hits[:limit]
