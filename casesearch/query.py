"""Searching cases by their words, and showing where each result matched.

A query is segmented like the cases (the knowledge base's segmentation, fillers dropped);
every word must be in the case — the word itself, or, for a long word the case's text cut
differently, all the dictionary words inside it (综合服务中心 → 服务中心 …). The full-text
index answers in SQL (FTS5 ``MATCH`` / ``tsvector @@ tsquery``); the cases still pending
(written since the last refresh, usually a handful) are read and matched here, so a search
never misses what was just written and never writes itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import Session

from cases.case_models import Case
from casesearch.index import (
    PLACEHOLDERS,
    CaseTexts,
    add_replies_and_transcripts,
    case_texts,
    clean,
    document,
)
from casesearch.models import PendingCase
from core.db import UtcDateTime
from core.dialect import is_sqlite
from knowledge import segmentation

# Pending cases a search reads itself (the most recently written); beyond that the search
# says how many are not searchable yet.
PENDING_CHECKED = 200
SNIPPET_CONTEXT = 24  # characters shown on each side of the first match


@dataclass(frozen=True)
class Word:
    word: str
    parts: tuple[str, ...] = ()  # dictionary words inside it, for a text cut differently


@dataclass(frozen=True)
class CaseSearch:
    """The words of a query, each of which a case must contain."""

    words: tuple[Word, ...]

    def marked(self) -> list[str]:
        """Strings to highlight, longest first."""
        found = {w.word for w in self.words} | {p for w in self.words for p in w.parts}
        return sorted(found, key=lambda s: (-len(s), s))

    def matches(self, document_words: set[str]) -> bool:
        return all(w.word in document_words or (w.parts and set(w.parts) <= document_words)
                   for w in self.words)

    def fts5(self) -> str:
        def one(w: Word) -> str:
            if not w.parts:
                return f'"{w.word}"'
            return f'("{w.word}" OR (' + " AND ".join(f'"{p}"' for p in w.parts) + "))"
        return " AND ".join(one(w) for w in self.words)

    def tsquery(self) -> str:
        def one(w: Word) -> str:
            return f"({w.word} | ({' & '.join(w.parts)}))" if w.parts else w.word
        return " & ".join(one(w) for w in self.words)


def parse(query: str) -> CaseSearch | None:
    """The query's words, or ``None`` when it has none (only fillers or punctuation)."""
    words: dict[str, Word] = {}
    for raw, inner in segmentation.segment_with_parts(query):
        word = clean(raw)
        if word and word not in words:
            parts = tuple(dict.fromkeys(p for p in (clean(i) for i in inner) if p and p != word))
            words[word] = Word(word, parts)
    return CaseSearch(tuple(words.values())) if words else None


@dataclass(frozen=True)
class PendingCheck:
    checked: list[int]  # pending cases read here (their index rows may be stale)
    matched: list[int]  # … of which match
    unchecked: int  # pending cases beyond PENDING_CHECKED, not searchable yet


def check_pending(session: Session, search: CaseSearch) -> PendingCheck:
    """Match the cases written since the last refresh against the query, here."""
    recent = select(PendingCase.case_id).group_by(PendingCase.case_id) \
        .order_by(func.max(PendingCase.id).desc())
    checked = list(session.scalars(recent.limit(PENDING_CHECKED)))
    if not checked:
        return PendingCheck([], [], 0)
    unchecked = 0
    if len(checked) == PENDING_CHECKED:
        total = session.scalar(select(func.count(func.distinct(PendingCase.case_id)))) or 0
        unchecked = total - len(checked)
    texts = case_texts(session, checked)
    matched = [case_id for case_id, value in texts.items()
               if search.matches(set(document(value).split()))]
    return PendingCheck(checked, matched, unchecked)


def _fts_condition(session: Session, search: CaseSearch) -> tuple[Any, bool]:
    """The match against the index, and whether the index table has ``received_at``."""
    if is_sqlite(session):
        return text("SELECT rowid AS case_id FROM case_search WHERE case_search MATCH :fts") \
            .bindparams(fts=search.fts5()).columns(column("case_id", Integer)), False
    return text("case_search.vector @@ to_tsquery('simple', :fts)") \
        .bindparams(fts=search.tsquery()), True


def condition(session: Session, search: CaseSearch,
              pending: PendingCheck | None = None) -> ColumnElement[bool]:
    """Cases whose words contain every word of the query (for counting, and on SQLite)."""
    pending = pending or check_pending(session, search)
    if is_sqlite(session):
        found, _ = _fts_condition(session, search)
    else:
        found = select(INDEX.c.case_id).where(_fts_condition(session, search)[0])
    in_index: ColumnElement[bool] = Case.id.in_(found)
    if pending.checked:
        in_index = and_(in_index, Case.id.not_in(pending.checked))
    if pending.matched:
        return or_(in_index, Case.id.in_(pending.matched))
    return in_index


# PostgreSQL's index table, as far as the queries need it.
INDEX = table("case_search", column("case_id", Integer), column("vector"),
              column("queued", Boolean))
# PostgreSQL: the newest cases of the list looked through first (common words end here).
RECENT_WINDOW = 10_000
Key = tuple[datetime, int]


def newest(session: Session, stmt: Select[Any], search: CaseSearch, pending: PendingCheck,
           after: Key | None, limit: int, *, queued: bool = False) -> list[Case]:
    """Up to ``limit`` cases of ``stmt`` (a ``select(Case)`` with the list's filters) that
    match the search, newest first (``received_at``, id), received before the keyset
    ``after``; the pending cases that match merged in. ``queued``: ``stmt`` lists only cases
    waiting in the operator queue (PostgreSQL then searches the queue's own index).
    """
    if is_sqlite(session):
        found, _ = _fts_condition(session, search)
        query = stmt.where(Case.id.in_(found))
        if pending.checked:
            query = query.where(Case.id.not_in(pending.checked))
        rows = _page_of(session, query, after, limit)
    else:
        rows = _newest_postgresql(session, stmt, search, pending, after, limit, queued)
    if pending.matched:
        extra = _page_of(session, stmt.where(Case.id.in_(pending.matched)), after, limit)
        rows = sorted({c.id: c for c in [*rows, *extra]}.values(),
                      key=lambda c: (c.received_at, c.id), reverse=True)[:limit]
    return rows


def _newest_postgresql(session: Session, stmt: Select[Any], search: CaseSearch,
                       pending: PendingCheck, after: Key | None, limit: int,
                       queued: bool = False) -> list[Case]:
    """Two steps, each with a plan that stays small whatever the word.

    1. The list's newest ``RECENT_WINDOW`` cases (walked through the list's own index, e.g.
       the queue's), each looked up in the search index: a common word (贷款, in one case of
       twenty) fills the page after a few hundred cases.
    2. Only if the page is not full: the older cases, found through the GIN index — then the
       word is rare among them, so its matches are few. (A single plan would trust the
       planner's guess of how many cases match, and for two correlated words — 用电 and
       增容 — it guesses far too few, joining thousands of matches to keep thirty.) For the
       queue, the GIN index of the queue's cases only: a word common among all cases can be
       rare among waiting ones (容积率, only in replies).
    """
    rows = list(session.scalars(recent_statement(stmt, search, pending.checked, after, limit)))
    if len(rows) >= limit:
        return rows
    boundary = session.execute(
        _after(select(Case.received_at, Case.id).where(_criteria(stmt)), after)
        .order_by(Case.received_at.desc(), Case.id.desc())
        .offset(RECENT_WINDOW - 1).limit(1)).first()
    if boundary is None:  # the window held every case left
        return rows
    return rows + list(session.scalars(older_statement(
        stmt, search, pending.checked, (boundary[0], boundary[1]), limit - len(rows),
        queued=queued)))


def _criteria(stmt: Select[Any]) -> Any:
    return stmt.whereclause if stmt.whereclause is not None else true()


def _tsquery(search: CaseSearch) -> Any:
    return func.to_tsquery(literal_column("'simple'"), literal(search.tsquery()))


def _cursor(after: Key) -> Any:
    return tuple_(literal(after[0], UtcDateTime()), literal(after[1]))


def _after(query: Select[Any], after: Key | None) -> Select[Any]:
    return query if after is None else \
        query.where(tuple_(Case.received_at, Case.id) < _cursor(after))


def recent_statement(stmt: Select[Any], search: CaseSearch, checked: Sequence[int],
                     after: Key | None, limit: int) -> Select[Any]:
    """Step 1 (PostgreSQL): matches among the list's newest ``RECENT_WINDOW`` cases."""
    window = _after(select(Case.id.label("id"), Case.received_at.label("at"))
                    .where(_criteria(stmt)), after) \
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(RECENT_WINDOW) \
        .subquery("recent")
    # Each case of the window is looked up and matched on its own, in the list's order, so
    # the page is done at the 31st match. A join would let the planner take the GIN index's
    # matches among every case and hash them against the window instead — what it does when
    # it guesses few matches (two correlated words, 用电 and 增容), reading tens of thousands
    # of index rows to keep thirty. A correlated subquery is never turned into that join.
    matched = select(INDEX.c.vector.bool_op("@@")(_tsquery(search))) \
        .where(INDEX.c.case_id == window.c.id).scalar_subquery()
    query = stmt.join(window, window.c.id == Case.id).where(matched)
    if checked:
        query = query.where(Case.id.not_in(checked))
    return query.order_by(window.c.at.desc(), window.c.id.desc()).limit(limit)


def older_statement(stmt: Select[Any], search: CaseSearch, checked: Sequence[int],
                    before: Key, limit: int, *, queued: bool = False) -> Select[Any]:
    """Step 2 (PostgreSQL): matches older than the window, through the GIN index (of the
    queue's cases only, ``ix_case_search_queued``, when ``queued``)."""
    found = select(INDEX.c.case_id).where(INDEX.c.vector.op("@@")(_tsquery(search)))
    if queued:  # as the partial index's own predicate, so the planner matches it
        found = found.where(INDEX.c.queued)
    # Materialized: the index's matches first, then their cases. Left to itself the planner
    # sometimes walks the list back through every older case instead, looking each one up
    # (用电 莼湖: 32,000 cases for 1,981 matches), though step 1 has just shown the words to
    # be rare.
    matches = found.cte("matches").prefix_with("MATERIALIZED")
    query = _after(stmt.join(matches, matches.c.case_id == Case.id), before)
    if checked:
        query = query.where(Case.id.not_in(checked))
    return query.order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)


def _page_of(session: Session, query: Select[Any], after: Key | None,
             limit: int) -> list[Case]:
    return list(session.scalars(_after(query, after)
                                .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)))


# -- showing the matches ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """Where a case matched: the field and a short stretch of text, matches marked."""

    where: str
    parts: list[tuple[str, bool]]  # (text, is a match)


def _snippet(value: str, pattern: re.Pattern[str]) -> list[tuple[str, bool]] | None:
    first = pattern.search(value)
    if first is None:
        return None
    start = max(0, first.start() - SNIPPET_CONTEXT)
    end = min(len(value), first.end() + SNIPPET_CONTEXT * 2)
    window = value[start:end]
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    at = 0
    for hit in pattern.finditer(window):
        if hit.start() > at:
            parts.append((window[at:hit.start()], False))
        parts.append((hit.group(), True))
        at = hit.end()
    if at < len(window):
        parts.append((window[at:], False))
    if end < len(value):
        parts.append(("…", False))
    return parts


def snippets(session: Session, cases: Sequence[Case], search: CaseSearch
             ) -> dict[int, Snippet]:
    """For each case, the first of its texts where a query word appears, matches marked.

    The case's own fields come from the loaded rows; replies and transcripts are read (one
    query) only for the cases whose own fields do not show a match. Texts are shown as
    written (data, never markup): the template marks the matching parts.
    """
    pattern = re.compile("|".join(re.escape(s) for s in search.marked()), re.IGNORECASE)
    own = {case.id: CaseTexts(
        description="" if case.description in PLACEHOLDERS else case.description or "",
        contact_name=case.contact_name or "",
        enterprise=case.enterprise.name if case.enterprise else "",
        uscc=(case.enterprise.uscc or "") if case.enterprise else "") for case in cases}
    found: dict[int, Snippet] = {}

    def first_match(texts: dict[int, CaseTexts]) -> None:
        for case_id, value in texts.items():
            for where, raw in value.labelled():
                parts = _snippet(" ".join(raw.split()), pattern)
                if parts:
                    found[case_id] = Snippet(where, parts)
                    break

    first_match(own)
    rest = {case_id: CaseTexts() for case_id in own if case_id not in found}
    add_replies_and_transcripts(session, rest)
    first_match(rest)
    return found
