"""Which dictionaries a search index's tokens were segmented with, and whether they still are.

The knowledge base (``kb_search``, ``kb_term_stats``) and case search (``case_search``) store
segmented tokens. What decides those tokens ships with the code: the user dictionary (the
notice's terms, the routing vocabulary, unit names, the article words of the colloquial
dictionary), the stop words, jieba's own dictionary (its version) and the segmentation code
(``segmentation.VERSION`` and each index's ``INDEX_VERSION``). Their **fingerprint** is a hash
of all of it; ``search_index_state`` keeps, per index, the fingerprint its tokens were made
with. A periodic job compares the two and rebuilds an index whose fingerprint differs (or is
missing while the index has rows), in the background, and records the new fingerprint only
when the rebuild is complete — a rebuild cut short is taken up again by the next run.

The words are hashed, not the files: a comment, a reordering or a caller word of
``colloquial.txt`` (read at query time only) does not make a million cases be segmented again.
Article titles and the administrator's synonyms join the user dictionary at run time; they
are data, not part of the fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import jieba
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.dialect import insert_or_ignore
from knowledge import segmentation
from knowledge.models import SearchIndexState

KB = "kb"
CASES = "cases"


def digest_of(user_words: Iterable[str], stopwords: Iterable[str]) -> str:
    """The hash of a user dictionary and stop words, as the tokenizer takes them."""
    words = sorted({w for w in (segmentation.normalize(raw).replace(" ", "")
                                for raw in user_words) if len(w) >= 2})
    parts = [f"segmentation {segmentation.VERSION}", f"jieba {jieba.__version__}",
             "[user words]", *words, "[stop words]", *sorted(set(stopwords))]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def dictionary_digest() -> str:
    """The shipped dictionaries' hash (files of the release: computed once per process)."""
    return digest_of(segmentation.default_user_words(), segmentation.STOPWORDS)


def fingerprint(name: str, index_version: int) -> str:
    """The fingerprint of index ``name`` built by this code: dictionaries + code versions."""
    value = f"{dictionary_digest()}\n{name} {index_version}"
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def read_state(session: Session, name: str) -> SearchIndexState | None:
    return session.get(SearchIndexState, name)


def locked_state(session: Session, name: str) -> SearchIndexState:
    """The index's row, created if missing and locked for this transaction (PostgreSQL: two
    jobs never both start a rebuild; SQLite: the caller holds the write lock)."""
    session.execute(insert_or_ignore(session, SearchIndexState, {"name": name}, ["name"]))
    return session.scalars(
        select(SearchIndexState).where(SearchIndexState.name == name).with_for_update()
        .execution_options(populate_existing=True)).one()


def record(state: SearchIndexState, value: str, now: datetime) -> None:
    """The index's tokens are now all made with ``value``: a rebuild is complete."""
    state.fingerprint = value
    state.recorded_at = now
    state.building = None
    state.building_upto = None


def is_current(state: SearchIndexState | None, current: str) -> bool:
    return state is not None and state.fingerprint == current


def describe(state: SearchIndexState | None, current: str, tz: str,
             remaining: int | None = None) -> str:
    """One line for ``flask kb status`` / ``flask case-search status``."""
    stored = state.fingerprint if state else None
    ids = f"（当前词典指纹 {current[:12]}，索引 {stored[:12] if stored else '未记录'}）"
    if state is not None and stored == current:
        at = state.recorded_at
        since = f"，{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} 记录" if at else ""
        return f"分词词典：索引与当前词典一致{since}{ids}"
    if state is not None and state.building == current:
        left = f"，尚余 {remaining} 件" if remaining is not None else ""
        return f"分词词典：正在按当前词典自动重建{left}{ids}"
    if stored is None:
        return f"分词词典：索引未记录所用词典，后台任务将核对，需要时自动重建{ids}"
    return f"分词词典：索引按旧版词典编制，后台任务将自动重建{ids}"
