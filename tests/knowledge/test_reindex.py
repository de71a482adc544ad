"""The knowledge base's index is rebuilt in the background when the dictionaries change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import knowledge.search as kb_search
from core.db import db
from core.dialect import is_sqlite
from core.jobs import set_app
from knowledge import index_state, segmentation
from knowledge.models import SearchIndexState
from knowledge.reindex import current_fingerprint, kb_index_job
from tests.conftest import MutableClock
from workers.periodic import PERIODIC

OLD = "0" * 64  # the fingerprint of an older release's dictionaries


def stored_title(session: Session, article_id: int) -> str:
    column = "rowid" if is_sqlite(session) else "article_id"
    return session.execute(text(f"SELECT title FROM kb_search WHERE {column} = :id"),
                           {"id": article_id}).scalar_one()


def make_stale(app: Any, article_id: int, fingerprint: str | None) -> None:
    """Tokens as an older segmentation left them, and the fingerprint it recorded."""
    with db.transaction() as session:
        column = "rowid" if is_sqlite(session) else "article_id"
        session.execute(text(f"UPDATE kb_search SET title = 'stale' WHERE {column} = :id"),
                        {"id": article_id})
        if fingerprint is not None:
            session.add(SearchIndexState(name=index_state.KB, fingerprint=fingerprint))
    set_app(app)


def state() -> SearchIndexState | None:
    return index_state.read_state(db.session(), index_state.KB)


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["kb", *args])


def test_a_changed_fingerprint_rebuilds_the_index_and_records_it(
        app: Any, corpus: dict[str, int], clock: MutableClock) -> None:
    expected = kb_search.index_fields("企业贷款难怎么办", [], "").title
    make_stale(app, corpus["loan"], OLD)
    clock.set_local("2026-12-07 03:00")
    assert kb_index_job() == len(corpus)
    assert stored_title(db.session(), corpus["loan"]) == expected
    recorded = state()
    assert recorded is not None and recorded.fingerprint == current_fingerprint() != OLD
    assert recorded.recorded_at == clock()
    # The statistics were counted again with the index: the search still ranks the article.
    hits = kb_search.search(db.session(), "贷款难", today=clock().date())
    assert hits and hits[0].article_id == corpus["loan"]


def test_an_unchanged_fingerprint_does_nothing(app: Any, corpus: dict[str, int]) -> None:
    make_stale(app, corpus["loan"], current_fingerprint())
    assert kb_index_job() is None
    assert stored_title(db.session(), corpus["loan"]) == "stale"


def test_no_fingerprint_on_an_index_with_rows_rebuilds(app: Any, corpus: dict[str, int]) -> None:
    make_stale(app, corpus["loan"], None)
    assert kb_index_job() == len(corpus)
    assert stored_title(db.session(), corpus["loan"]) != "stale"
    assert index_state.is_current(state(), current_fingerprint())


def test_an_empty_index_just_records_the_fingerprint(app: Any, clock: MutableClock) -> None:
    set_app(app)
    assert kb_index_job() is None
    recorded = state()
    assert recorded is not None and recorded.fingerprint == current_fingerprint()
    assert recorded.recorded_at == clock()


def test_an_interrupted_rebuild_records_nothing_and_runs_again(
        app: Any, corpus: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    make_stale(app, corpus["loan"], OLD)
    real = kb_search.index_article
    calls: list[int] = []

    def dies_half_way(session: Session, article: Any) -> Any:
        calls.append(article.id)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(session, article)

    monkeypatch.setattr(kb_search, "index_article", dies_half_way)
    with pytest.raises(RuntimeError):
        kb_index_job()
    recorded = state()
    assert recorded is not None and recorded.fingerprint == OLD
    assert stored_title(db.session(), corpus["loan"]) == "stale"  # rolled back, all of it
    db.session.remove()
    monkeypatch.setattr(kb_search, "index_article", real)
    assert kb_index_job() == len(corpus)
    assert index_state.is_current(state(), current_fingerprint())


def test_status_says_whether_the_index_follows_the_dictionaries(
        app: Any, corpus: dict[str, int], clock: MutableClock) -> None:
    make_stale(app, corpus["loan"], OLD)
    before = run(app, "status")
    assert before.exit_code == 0
    assert f"知识库条目：{len(corpus)} 条" in before.output
    assert "分词词典：索引按旧版词典编制，后台任务将自动重建" in before.output
    assert f"当前词典指纹 {current_fingerprint()[:12]}，索引 {OLD[:12]}" in before.output
    kb_index_job()
    after = run(app, "status").output
    assert "分词词典：索引与当前词典一致，2026-11-24 10:00 记录" in after


def test_status_without_a_fingerprint(app: Any) -> None:
    assert "分词词典：索引未记录所用词典" in run(app, "status").output


def test_manual_reindex_records_the_fingerprint(app: Any, corpus: dict[str, int]) -> None:
    make_stale(app, corpus["loan"], OLD)
    assert f"已重建索引：{len(corpus)} 条" in run(app, "reindex").output
    assert stored_title(db.session(), corpus["loan"]) != "stale"
    assert index_state.is_current(state(), current_fingerprint())


def test_the_fingerprint_follows_words_stop_words_and_code(
        monkeypatch: pytest.MonkeyPatch) -> None:
    words, stops = ["最多跑一地", "专班商办"], ["的", "了"]
    base = index_state.digest_of(words, stops)
    # The words as the tokenizer takes them: order, case and width do not count.
    assert index_state.digest_of(["专班商办", "最多跑一地", "专班商办"], stops[::-1]) == base
    assert index_state.digest_of([*words, "企服专班"], stops) != base
    assert index_state.digest_of(words, [*stops, "不了"]) != base
    monkeypatch.setattr(segmentation, "VERSION", segmentation.VERSION + 1)
    assert index_state.digest_of(words, stops) != base
    # Each index has its own code version.
    assert index_state.fingerprint("kb", 1) != index_state.fingerprint("kb", 2)
    assert index_state.fingerprint("kb", 1) != index_state.fingerprint("cases", 1)


def test_the_shipped_dictionaries_are_in_the_fingerprint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = index_state.dictionary_digest()
    monkeypatch.setattr(segmentation, "STOPWORDS", segmentation.STOPWORDS | {"新增停用词"})
    index_state.dictionary_digest.cache_clear()
    try:
        assert index_state.dictionary_digest() != shipped
    finally:
        index_state.dictionary_digest.cache_clear()


def test_the_job_is_periodic() -> None:
    assert any(p.func is kb_index_job and p.name == "kb-search-index" for p in PERIODIC)
