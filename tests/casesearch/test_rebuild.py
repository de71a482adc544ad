"""Case search is rebuilt in the background when the dictionaries change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import casesearch.jobs as jobs
from casesearch import rebuild
from casesearch.index import case_texts as texts_of
from casesearch.index import document, pending_count, refresh
from casesearch.jobs import refresh_index_job
from core.db import db
from core.dialect import is_sqlite
from core.jobs import set_app
from knowledge import index_state
from knowledge.models import SearchIndexState
from tests.cases.factories import local, new_case
from tests.conftest import MutableClock
from workers.periodic import PERIODIC

NOW = local("2026-11-24 10:00")
OLD = "0" * 64  # the fingerprint of an older release's dictionaries


def stored_words(session: Session, case_id: int) -> str:
    column = "rowid" if is_sqlite(session) else "case_id"
    return session.execute(text(f"SELECT words FROM case_search WHERE {column} = :id"),
                           {"id": case_id}).scalar_one()


def indexed_cases(app: Any, fingerprint: str | None, count: int = 3) -> list[int]:
    """``count`` cases in the index, their words left stale by an older segmentation, and
    the fingerprint that segmentation recorded."""
    with db.transaction() as session:
        ids = [new_case(session, NOW, f"第{n}件：污水纳管").id for n in range(count)]
    with db.transaction() as session:
        while refresh(session):
            pass
        column = "rowid" if is_sqlite(session) else "case_id"
        for case_id in ids:
            session.execute(text(f"UPDATE case_search SET words = 'stale' WHERE {column} = :id"),
                            {"id": case_id})
        if fingerprint is not None:
            session.add(SearchIndexState(name=index_state.CASES, fingerprint=fingerprint))
    set_app(app)
    return ids


def state() -> SearchIndexState | None:
    return index_state.read_state(db.session(), index_state.CASES)


def expected_words(case_id: int) -> str:
    return document(texts_of(db.session(), [case_id])[case_id])


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["case-search", *args])


def test_a_changed_fingerprint_segments_every_case_and_records_it(
        app: Any, clock: MutableClock) -> None:
    ids = indexed_cases(app, OLD)
    clock.set_local("2026-12-07 03:00")
    assert refresh_index_job() == len(ids)
    session = db.session()
    assert pending_count(session) == 0
    assert all(stored_words(session, i) == expected_words(i) != "stale" for i in ids)
    recorded = state()
    assert recorded is not None and recorded.fingerprint == rebuild.current_fingerprint()
    assert recorded.recorded_at == clock() and recorded.building is None


def test_an_unchanged_fingerprint_does_nothing(app: Any) -> None:
    ids = indexed_cases(app, rebuild.current_fingerprint())
    assert refresh_index_job() == 0
    assert stored_words(db.session(), ids[0]) == "stale"
    assert pending_count(db.session()) == 0


def test_no_fingerprint_on_an_index_with_rows_rebuilds(app: Any) -> None:
    ids = indexed_cases(app, None)
    assert refresh_index_job() == len(ids)
    assert stored_words(db.session(), ids[0]) == expected_words(ids[0])
    assert index_state.is_current(state(), rebuild.current_fingerprint())


def test_an_empty_index_just_records_the_fingerprint(app: Any) -> None:
    with db.transaction() as session:
        case_id = new_case(session, NOW, "排污许可").id
    set_app(app)
    assert refresh_index_job() == 1  # the new case, segmented as usual; nothing more
    assert stored_words(db.session(), case_id) == expected_words(case_id)
    assert index_state.is_current(state(), rebuild.current_fingerprint())


def test_an_interrupted_rebuild_records_nothing_and_goes_on(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = indexed_cases(app, OLD)
    batches: list[int] = []

    def one_case_then_killed(session: Session) -> int:
        batches.append(1)
        if len(batches) > 1:
            raise RuntimeError("worker killed")
        return refresh(session, limit=1)

    monkeypatch.setattr(jobs, "refresh", one_case_then_killed)
    with pytest.raises(RuntimeError):
        refresh_index_job()
    db.session.remove()
    recorded = state()
    assert recorded is not None and recorded.fingerprint == OLD
    assert recorded.building == rebuild.current_fingerprint()
    assert rebuild.remaining(db.session(), recorded) == len(ids) - 1
    assert stored_words(db.session(), ids[0]) == expected_words(ids[0])  # the batch committed
    assert stored_words(db.session(), ids[1]) == "stale"
    status = run(app, "status").output
    assert f"分词词典：正在按当前词典自动重建，尚余 {len(ids) - 1} 件" in status
    # The next run takes the rebuild up where it stopped, without queueing it again.
    db.session.remove()
    monkeypatch.setattr(jobs, "refresh", refresh)
    assert refresh_index_job() == len(ids) - 1
    assert all(stored_words(db.session(), i) == expected_words(i) for i in ids)
    assert index_state.is_current(state(), rebuild.current_fingerprint())


def test_a_case_written_during_the_rebuild_does_not_hold_it_up(app: Any) -> None:
    ids = indexed_cases(app, OLD)
    with db.transaction() as session:
        assert rebuild.start_if_stale(session, NOW) == len(ids)
    with db.transaction() as session:
        new_case(session, NOW, "用电增容")  # pending after the rebuild's rows
        assert refresh(session, limit=len(ids)) == len(ids)  # oldest first: the rebuild's
        assert rebuild.finish_if_done(session, NOW)
    assert pending_count(db.session()) == 1
    assert index_state.is_current(state(), rebuild.current_fingerprint())


def test_status_says_whether_the_index_follows_the_dictionaries(app: Any) -> None:
    indexed_cases(app, OLD, count=2)
    before = run(app, "status")
    assert before.exit_code == 0
    assert "待编入检索索引的诉求：0 件" in before.output
    assert "分词词典：索引按旧版词典编制，后台任务将自动重建" in before.output
    assert f"当前词典指纹 {rebuild.current_fingerprint()[:12]}，索引 {OLD[:12]}" in before.output
    refresh_index_job()
    after = run(app, "status").output
    assert "分词词典：索引与当前词典一致，2026-11-24 10:00 记录" in after


def test_manual_reindex_records_the_fingerprint(app: Any) -> None:
    ids = indexed_cases(app, OLD, count=2)
    result = run(app, "reindex")
    assert result.exit_code == 0 and f"已重建诉求检索索引：{len(ids)} 件" in result.output
    assert stored_words(db.session(), ids[0]) == expected_words(ids[0])
    assert index_state.is_current(state(), rebuild.current_fingerprint())


def test_the_job_is_periodic() -> None:
    assert any(p.func is refresh_index_job and p.name == "case-search-index"
               for p in PERIODIC)
