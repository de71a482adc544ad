"""The suite's databases (tests/databases.py): cloned from a migrated template, emptied between
tests as ``TRUNCATE … RESTART IDENTITY`` would, PostgreSQL clones reused one session at a time."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from cases.case_models import Case, CaseEvent
from core.db import db
from knowledge.service import ArticleInput, create_article
from migrations.runner import MIGRATIONS_DIR, alembic_config
from tests import databases
from tests.cases.factories import OPERATOR, new_case
from tests.conftest import _truncate_all


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def row_counts(engine: Any) -> dict[str, int]:
    # SQLite's FTS5 shadow tables (kb_search_data, case_search_idx …) are the index's own
    # bookkeeping and never empty; the indexes themselves (kb_search, case_search) are counted.
    fts5 = ("kb_search_", "case_search_")
    shadow = ("_data", "_idx", "_content", "_docsize", "_config")
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"
             and not (engine.dialect.name == "sqlite" and n.startswith(fts5)
                      and n.endswith(shadow))]
    with engine.connect() as conn:
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def test_between_tests_every_table_is_emptied_and_ids_start_again(app: Any, clock: Any) -> None:
    session = db.session()
    case = new_case(session, clock())  # a case and its append-only audit events
    create_article(session, ArticleInput(title="企业开办流程", answer="请到窗口办理。",
                                         questions=[]), actor=OPERATOR, now=clock(),
                   publish=True)  # an article and its search index row
    session.commit()
    first_id = case.id
    assert session.scalars(select(CaseEvent)).first() is not None
    engine = db.engine
    assert engine is not None and sum(row_counts(engine).values()) > 0

    _truncate_all()

    assert {n: c for n, c in row_counts(engine).items() if c} == {}
    session = db.session()
    again = new_case(session, clock())
    session.commit()
    assert again.id == first_id == 1
    assert session.scalars(select(Case.id)).all() == [1]


def test_a_change_to_any_migration_changes_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text("# env\n")
    (tmp_path / "versions" / "0001_a.py").write_text("revision = '0001'\n")
    first = databases.schema_fingerprint(tmp_path)
    (tmp_path / "versions" / "__pycache__").mkdir()
    (tmp_path / "versions" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert databases.schema_fingerprint(tmp_path) == first  # caches do not count
    (tmp_path / "versions" / "0001_a.py").write_text("revision = '0001'  # edited\n")
    edited = databases.schema_fingerprint(tmp_path)
    (tmp_path / "versions" / "0002_b.py").write_text("revision = '0002'\n")
    assert len({first, edited, databases.schema_fingerprint(tmp_path)}) == 3
    assert databases.schema_fingerprint() == databases.schema_fingerprint(MIGRATIONS_DIR)


def test_a_sqlite_copy_of_the_template_is_at_the_head_revision(tmp_path: Path) -> None:
    url = databases.create_sqlite_database(tmp_path / "copy.db")
    assert url == f"sqlite:///{tmp_path / 'copy.db'}"
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)]
    template = databases.template_cache_dir() / f"{databases.schema_fingerprint()}.db"
    assert template.exists() and not Path(f"{template}-wal").exists()


@pytest.mark.postgresql_only
def test_a_postgresql_clone_is_held_by_one_session_and_reused_empty() -> None:
    base = os.environ["TEST_DATABASE_URL"]
    first_url, release_first = databases.claim_postgres_database(base)
    try:
        second_url, release_second = databases.claim_postgres_database(base)
        release_second()
        assert second_url != first_url  # held: another session gets another clone
        engine = create_engine(second_url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO departments (name, kind, task_force, active, "
                              "sort_order) VALUES ('遗留单位', 'member', false, true, 1)"))
        engine.dispose()
        # Released: the next session gets a clone emptied and at the head — this very one,
        # unless another session on the server took it in between.
        third_url, release_third = databases.claim_postgres_database(base)
        try:
            engine = create_engine(third_url, poolclass=NullPool)
            assert sum(row_counts(engine).values()) == 0
            with engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM alembic_version")
                                    ).scalar_one() == head_revision()
            engine.dispose()
        finally:
            release_third()
    finally:
        release_first()
