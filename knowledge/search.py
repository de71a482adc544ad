"""Search in the database: the same pre-segmented tokens on SQLite (FTS5) and PostgreSQL.

Each article is stored in ``kb_search`` as four space-separated token strings — title,
question phrasings, answer, and the character bigrams of title and phrasings (which still
meet a query whose words a speech model got slightly wrong: “带款” shares nothing with 贷款
as a word, “办理度” shares the bigram 办理). Both databases answer in SQL, so every web process
sees the same index:

- SQLite: an FTS5 table ranked by its built-in ``bm25()`` with column weights.
- PostgreSQL: a generated ``tsvector`` column (``to_tsvector('simple', …)``, weighted A–D per
  field) with a GIN index finds the candidates; the score is a BM25-style sum over the query
  terms of IDF × ``ts_rank`` (term frequency saturated, divided by the log of the length).
  The document frequencies come from ``kb_term_stats``, kept up to date as articles are
  indexed.

Query words are expanded with the administrator's synonym groups; only the most informative
terms (by IDF) of a long text are kept, so a two-minute transcript costs what a question does,
and the candidates come from the rarest of them within a budget: a word found in most
articles adds almost nothing to a score but would make every article one to rank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from knowledge import segmentation
from knowledge.models import Article, ArticleState, SynonymGroup, TermStat

# Field weights: a word in the title says more than one in a long answer.
SQLITE_WEIGHTS = (8.0, 5.0, 1.0, 0.6)  # title, questions, answer, grams
PG_WEIGHTS = "{0.15, 0.25, 0.6, 1.0}"  # D grams, C answer, B questions, A title
MAX_TERMS = 8
# PostgreSQL: candidates kept by the cheap first ranking for the IDF-weighted second one.
PG_POOL = 100
# About how many articles the candidate-finding words may match in all (both databases).
CANDIDATE_BUDGET = 1000
# Bigrams only for short texts (questions); a long transcript has words enough.
GRAMS_UP_TO = 40
DOCS_KEY = " docs"  # the kb_term_stats row counting indexed articles (no token has a space)
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")


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
    """One ranked article with the query words it matched."""

    article_id: int
    title: str
    score: float
    matched: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Query:
    words: list[str]  # query words and their synonyms
    grams: list[str]

    def terms(self) -> list[str]:
        return list(dict.fromkeys([*self.words, *self.grams]))


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


# -- synonyms -----------------------------------------------------------------------------


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
    column = "rowid" if _dialect(session) == "sqlite" else "article_id"
    row = session.execute(
        text(f"SELECT title, questions, answer, grams FROM kb_search WHERE {column} = :id"),
        {"id": article_id},
    ).first()
    return IndexedFields(*row) if row else None


def _adjust_stats(session: Session, tokens: Iterable[str], delta: int) -> None:
    tokens = sorted({t[:100] for t in tokens})
    if not tokens:
        return
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    session.execute(insert(TermStat).values([{"token": t, "df": 0} for t in tokens])
                    .on_conflict_do_nothing(index_elements=["token"]))
    session.execute(update(TermStat).where(TermStat.token.in_(tokens))
                    .values(df=TermStat.df + delta).execution_options(synchronize_session=False))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def index_article(session: Session, article: Article) -> IndexedFields:
    """Store (or replace) the article's tokens and update the document frequencies."""
    segmentation.add_words([article.title])
    fields = index_fields(article.title, article.questions, article.answer)
    old = _stored(session, article.id)
    old_tokens = old.tokens() if old else set()
    new_tokens = fields.tokens()
    _adjust_stats(session, old_tokens - new_tokens, -1)
    _adjust_stats(session, new_tokens - old_tokens, +1)
    if old is None:
        _adjust_stats(session, [DOCS_KEY], +1)
    values = {"id": article.id, "title": fields.title, "questions": fields.questions,
              "answer": fields.answer, "grams": fields.grams}
    if _dialect(session) == "sqlite":
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
        sync_filters(session, article)
    return fields


def sync_filters(session: Session, article: Article) -> None:
    """Copy state, validity and the phone flag into PostgreSQL's index row (SQLite joins)."""
    if _dialect(session) != "postgresql":
        return
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
    _adjust_stats(session, old.tokens() | {DOCS_KEY}, -1)
    column = "rowid" if _dialect(session) == "sqlite" else "article_id"
    session.execute(text(f"DELETE FROM kb_search WHERE {column} = :id"), {"id": article_id})


# -- querying -------------------------------------------------------------------------------


def build_query(session: Session, text_value: str) -> Query:
    """Words (with synonyms) and, for short texts, bigrams of the query."""
    load_titles(session)
    words = list(dict.fromkeys(_tokens(text_value)))
    synonyms = synonym_map(session)
    expanded = list(dict.fromkeys(
        [*words, *(s for w in words for s in sorted(synonyms.get(w, ())))]))
    short = len(segmentation.normalize(text_value).replace(" ", "")) <= GRAMS_UP_TO
    grams = list(dict.fromkeys(bigrams(text_value))) if short else []
    return Query(words=expanded, grams=grams)


@dataclass(frozen=True)
class _Terms:
    idf: dict[str, float]  # the most informative query terms present in the index
    selective: list[str]  # those rare enough to find the candidates with
    # Even the rarest is in more articles than the budget (“中心”): look in titles and
    # phrasings only (PostgreSQL's ``head`` vector) rather than rank most of the articles.
    common_only: bool = False


def _informative(session: Session, terms: list[str]) -> _Terms:
    """The query terms present in the index, most informative first, with their IDF."""
    if not terms:
        return _Terms({}, [])
    rows = dict(session.execute(
        select(TermStat.token, TermStat.df).where(TermStat.token.in_([*terms, DOCS_KEY]))
    ).tuples().all())
    total = max(rows.pop(DOCS_KEY, 0), 1)
    idf = {t: math.log(1 + (total - df + 0.5) / (df + 0.5)) for t, df in rows.items() if df > 0}
    best = sorted(idf, key=lambda t: (-idf[t], terms.index(t)))[:MAX_TERMS]
    # Candidates come from the rarest words, as many as fit in the budget: a common word adds
    # little to a score but would make most articles candidates; it still counts in the score
    # of the candidates the rarer words found.
    selective: list[str] = []
    found = 0
    for term in sorted(best, key=lambda t: rows[t]):
        if selective and found + rows[term] > CANDIDATE_BUDGET:
            break
        selective.append(term)
        found += rows[term]
    return _Terms({t: idf[t] for t in best}, selective,
                  common_only=bool(selective) and found > CANDIDATE_BUDGET)


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


# PostgreSQL's planner does not count the cost of reading (and de-TOASTing) every tsvector, so
# on a few thousand articles it prefers a sequential scan — or a full scan of the primary key —
# to the GIN index (≈4× slower here). Off for this statement.
_PG_PLAN = ("enable_seqscan", "enable_indexscan")


def _execute(session: Session, sql: Any, params: dict[str, object]) -> list[Any]:
    if _dialect(session) != "postgresql":
        return list(session.execute(sql, params))
    def plan(value: str) -> Any:  # one round trip for the settings (transaction-local)
        return text("SELECT " + ", ".join(f"set_config('{s}', '{value}', true)"
                                          for s in _PG_PLAN))

    session.execute(plan("off"))
    try:
        return list(session.execute(sql, params))
    finally:
        session.execute(plan("on"))


def search(session: Session, query_text: str, *, today: date, limit: int = 10,
           phone_only: bool = False, published_only: bool = True) -> list[Hit]:
    """Ranked articles for ``query_text``: published and in force on ``today`` by default."""
    query = build_query(session, query_text)
    terms = _informative(session, query.terms())
    idf = terms.idf
    if not idf:
        return []
    where = _filters(phone_only, published_only, "a" if _dialect(session) == "sqlite" else "s")
    params: dict[str, object] = {"today": today, "limit": limit}
    if _dialect(session) == "sqlite":
        match = " OR ".join(f'"{t}"' for t in terms.selective)
        weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
        sql = text(
            f"SELECT s.rowid, -bm25(kb_search, {weights}) AS score, a.title, "
            "s.title, s.questions, s.answer, s.grams "
            "FROM kb_search s JOIN kb_articles a ON a.id = s.rowid "
            f"WHERE kb_search MATCH :match{where} ORDER BY bm25(kb_search, {weights}) "
            "LIMIT :limit")
        params["match"] = match
    else:
        parts = []
        for i, (term, weight) in enumerate(idf.items()):
            params[f"t{i}"] = term
            parts.append(f"{weight:.6f} * ts_rank('{PG_WEIGHTS}', c.vector, "
                         f"to_tsquery('simple', :t{i}), 1)")
        params["match"] = " | ".join(terms.selective)
        params["pool"] = max(PG_POOL, limit)
        # Two stages: the GIN index finds the candidates and one ts_rank per row keeps the
        # best PG_POOL; only those get the per-term IDF sum, which costs a call per term.
        sql = text(
            "SELECT r.article_id, r.score, a.title, r.title, r.questions, r.answer, r.grams "
            f"FROM (SELECT c.*, ({' + '.join(parts)}) AS score FROM ("
            " SELECT s.article_id, s.vector, s.title, s.questions, s.answer, s.grams"
            f" FROM kb_search s WHERE s.{'head' if terms.common_only else 'vector'}"
            f" @@ to_tsquery('simple', :match){where}"
            f" ORDER BY ts_rank('{PG_WEIGHTS}', s.vector, to_tsquery('simple', :match), 1) DESC"
            " LIMIT :pool) c ORDER BY score DESC, c.article_id LIMIT :limit) r "
            "JOIN kb_articles a ON a.id = r.article_id ORDER BY r.score DESC, r.article_id")
    if published_only:
        sql = sql.bindparams(bindparam("today", type_=Date()))
    else:
        del params["today"]
    hits = []
    for row in _execute(session, sql, params):
        stored = IndexedFields(*row[3:]).tokens()
        matched = [w for w in query.words if w in stored and w in idf]
        # “服务” adds nothing next to “服务中心”.
        matched = [w for w in matched if not any(w != o and w in o for o in matched)]
        if not matched:
            matched = [g for g in query.grams if g in stored and g in idf][:3]
        hits.append(Hit(article_id=row[0], title=row[2], score=round(float(row[1]), 6),
                        matched=matched))
    return hits
