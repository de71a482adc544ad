"""Case full-text search: every write path reaches the index; words, highlights, the console."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

import casesearch.query as casesearch
from cases.actions.assignments import do_reply
from cases.actions.details import do_update_details
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from cases.enterprises import register_enterprise
from cases.models import Enterprise
from cases.vocab import Channel
from cases.voicemail import file_voicemail, transcript_ready
from casesearch.index import pending_count, refresh
from casesearch.jobs import refresh_index_job
from casesearch.models import PendingCase
from core.db import db
from core.jobs import set_app
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    department_id,
    liaison,
    local,
    new_case,
    routed_case,
    voicemail_recording,
)
from transcription.corrections import correct_transcript
from transcription.models import Transcript

NOW = local("2026-11-24 10:00")


@pytest.fixture
def session(app: Any) -> Session:
    return db.session()


def found(session: Session, query: str) -> set[int]:
    """Ids of the cases the search finds (index and pending cases together)."""
    search = casesearch.parse(query)
    assert search is not None
    return set(session.scalars(select(Case.id).where(casesearch.condition(session, search))))


def indexed(session: Session, query: str) -> set[int]:
    """Ids found by the index alone, once every pending case is refreshed."""
    while refresh(session):
        pass
    assert pending_count(session) == 0
    return found(session, query)


def pending_cases(session: Session) -> set[int]:
    return set(session.scalars(select(PendingCase.case_id)))


def test_the_request_text_is_searched(session: Session) -> None:
    """The issue's example: “贷款” in the request text finds the case."""
    loan = new_case(session, NOW, "我们公司想申请银行贷款，资金周转困难")
    other = new_case(session, NOW, "厂房用电增容")
    assert pending_cases(session) == {loan.id, other.id}  # the triggers saw both
    assert found(session, "贷款") == {loan.id}  # not segmented yet: read as pending
    assert indexed(session, "贷款") == {loan.id}
    assert indexed(session, "用电") == {other.id}


@pytest.mark.parametrize("channel", [c.value for c in Channel])
def test_a_case_filed_on_any_channel_is_found(session: Session, channel: str) -> None:
    case = new_case(session, NOW, "企业反映污水纳管困难", channel=channel)
    assert found(session, "纳管") == {case.id} == indexed(session, "污水 纳管")


def test_every_word_must_be_in_the_case(session: Session) -> None:
    both = new_case(session, NOW, "用电增容的办理流程")
    one = new_case(session, NOW, "用电价格咨询")
    assert indexed(session, "用电") == {both.id, one.id}
    assert indexed(session, "用电 增容") == {both.id}
    assert indexed(session, "用电增容") == {both.id}  # one word, or the words inside it
    assert casesearch.parse("的 了 吗？") is None  # fillers only: nothing to look for


def test_channels_edits_transcripts_replies_and_enterprises_reach_the_index(
        session: Session) -> None:
    # Filed on WeChat, edited by an operator.
    api = new_case(session, NOW, "咨询专利申请", channel="wechat")
    assert indexed(session, "专利") == {api.id}
    do_update_details(session, api.id, actor=OPERATOR, now=NOW,
                      description="咨询商标注册", contact_name="周海燕")
    assert found(session, "商标") == {api.id} and found(session, "专利") == set()
    assert indexed(session, "商标") == {api.id} and indexed(session, "专利") == set()
    assert indexed(session, "周海燕") == {api.id}

    # A voicemail: filed before its transcript, then transcribed, then corrected.
    recording = voicemail_recording(session)
    call = recording.call
    voicemail = file_voicemail(session, recording_id=recording.id, call_id=call.id,
                               caller=call.from_number, category=call.category,
                               subcategory=call.subcategory, now=NOW, calendar=CALENDAR).case
    assert indexed(session, "留言") == set()  # the placeholder text is not indexed
    transcript_ready(session, recording.id, "我们厂里想问带款的事情", 0.8, now=NOW)
    assert indexed(session, "带款") == {voicemail.id}
    transcript = Transcript(recording_id=recording.id, text="我们厂里想问带款的事情")
    session.add(transcript)
    session.flush()
    correct_transcript(session, transcript.id, new_text="我们厂里想问贷款贴息的事情",
                       actor=OPERATOR, now=NOW)
    assert found(session, "贴息") == {voicemail.id}
    assert indexed(session, "贴息") == {voicemail.id}

    # A department's reply.
    routed = new_case(session, NOW, "企业用地问题")
    routed = do_route_to_department(
        session, routed.id, department_id=department_id(session, "区经信局"), actor=OPERATOR,
        now=NOW, calendar=CALENDAR)
    assert indexed(session, "容积率") == set()
    do_reply(session, routed.assignments[0].id, text="已协调调整容积率指标",
             actor=liaison(session, "区经信局"), now=NOW, calendar=CALENDAR)
    assert found(session, "容积率") == {routed.id}
    assert indexed(session, "容积率") == {routed.id}

    # The enterprise: linked, then renamed (by anything that updates the row).
    enterprise = register_enterprise(session, name="宁波甬江精密机械有限公司",
                                     uscc="91350100M000100Y43", now=NOW).enterprise
    do_update_details(session, routed.id, actor=OPERATOR, now=NOW,
                      enterprise_id=enterprise.id)
    assert indexed(session, "甬江精密") == {routed.id}
    assert indexed(session, "91350100M000100Y43") == {routed.id}
    session.execute(update(Enterprise).where(Enterprise.id == enterprise.id)
                    .values(name="宁波海曙轴承有限公司"))
    assert found(session, "海曙轴承") == {routed.id}
    assert indexed(session, "海曙轴承") == {routed.id} and indexed(session, "甬江") == set()


def test_the_periodic_job_empties_the_pending_list(app: Any, session: Session) -> None:
    cases = [new_case(session, NOW, f"第{n}件：污水纳管") for n in range(3)]
    session.commit()
    set_app(app)
    assert refresh_index_job() == 3
    assert pending_count(db.session()) == 0
    assert found(db.session(), "纳管") == {c.id for c in cases}


def test_pending_cases_beyond_the_limit_are_counted(session: Session,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(casesearch, "PENDING_CHECKED", 2)
    for n in range(5):
        new_case(session, NOW, f"第{n}件：排污许可")
    search = casesearch.parse("排污")
    assert search is not None
    pending = casesearch.check_pending(session, search)
    assert len(pending.checked) == 2 and pending.unchecked == 3


def test_snippets_mark_the_matches_and_keep_text_as_data(session: Session) -> None:
    long = "前面的话" * 20 + "<b>贷款</b>难，希望协调银行续贷" + "后面的话" * 20
    case = new_case(session, NOW, long)
    refresh(session)
    search = casesearch.parse("贷款 银行")
    assert search is not None
    snippet = casesearch.snippets(session, [case], search)[case.id]
    assert snippet.where == "诉求内容"
    assert [p for p, hit in snippet.parts if hit] == ["贷款", "银行"]
    assert snippet.parts[0] == ("…", False) and snippet.parts[-1] == ("…", False)
    assert "<b>" in "".join(p for p, _ in snippet.parts)  # shown as text by the template


def test_dialect_objects_exist(session: Session) -> None:
    """The migration made the index and its triggers on this database."""
    if session.get_bind().dialect.name == "postgresql":
        triggers = session.scalar(text(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'case_search_%'"))
    else:
        triggers = session.scalar(text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'case_search_%'"))
    assert triggers and triggers >= 5
    assert session.scalar(select(func.count()).select_from(PendingCase)) == 0


@pytest.mark.parametrize("segmented", [True, False])
def test_results_page_newest_first(session: Session, segmented: bool,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyset pages over the index, and over pending cases merged in, give every case once.

    A window of 4 makes PostgreSQL's search take its second step (older cases) on every page.
    """
    from datetime import timedelta

    from console.queries import CaseFilters, all_cases

    monkeypatch.setattr(casesearch, "RECENT_WINDOW", 4)

    numbers = []
    for n in range(35):
        numbers.append(new_case(session, NOW + timedelta(minutes=n), f"第{n}件：污水纳管").number)
        for m in range(2):  # cases between them that do not match
            new_case(session, NOW + timedelta(minutes=n, seconds=m + 1), "用电增容")
    if segmented:
        while refresh(session):
            pass
    first = all_cases(session, CaseFilters(q="纳管"))
    assert [c.number for c in first.rows] == numbers[::-1][:30]
    assert first.next_cursor is not None
    second = all_cases(session, CaseFilters(q="纳管"), cursor=first.next_cursor)
    assert [c.number for c in second.rows] == numbers[::-1][30:]
    assert second.next_cursor is None


def test_the_newest_cases_are_matched_one_by_one() -> None:
    """Step 1 (PostgreSQL) checks each case of the window in the list's order, so it ends at
    the page's last match. As a join, the planner took the GIN index's matches among every case
    when it guessed few (用电 and 增容 together): ~0.5 s at a million cases instead of ~5 ms."""
    from sqlalchemy.dialects import postgresql

    search = casesearch.parse("用电 增容")
    assert search is not None
    sql = str(casesearch.recent_statement(select(Case).where(Case.status == "received"),
                                          search, [], None, 31)
              .compile(dialect=postgresql.dialect()))
    assert "JOIN case_search" not in sql
    assert "(SELECT case_search.vector @@ to_tsquery(" in sql
    assert "WHERE recent.id = case_search.case_id)" in sql


@pytest.mark.postgresql_only
def test_the_queue_flag_follows_the_status(session: Session) -> None:
    """``case_search.queued`` (the queue's own GIN index) is set when a row is written and
    follows every status change after it (trigger)."""
    waiting = new_case(session, NOW, "企业反映污水纳管困难")
    routed = routed_case(session, NOW)
    while refresh(session):
        pass

    def queued() -> dict[int, bool]:
        rows = session.execute(text("SELECT case_id, queued FROM case_search")).all()
        return {row[0]: row[1] for row in rows}

    assert queued() == {waiting.id: True, routed.id: False}
    session.execute(update(Case).where(Case.id == waiting.id).values(status="handling"))
    session.execute(update(Case).where(Case.id == routed.id).values(status="received"))
    assert queued() == {waiting.id: False, routed.id: True}
    session.execute(update(Case).where(Case.id == routed.id).values(description="用电增容"))
    while refresh(session):  # rewritten: the flag stays right
        pass
    assert queued() == {waiting.id: False, routed.id: True}


@pytest.mark.parametrize("segmented", [True, False])
def test_the_queue_finds_its_older_cases_among_many_elsewhere(
        session: Session, segmented: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A word common among all cases but rare in the queue (容积率, written in replies): the
    queue's second step looks in the queue's own index and still finds its cases, newest
    first, and never a case that left the queue."""
    from datetime import timedelta

    from console.queries import QueueFilters, operator_queue

    monkeypatch.setattr(casesearch, "RECENT_WINDOW", 2)
    waiting = [new_case(session, NOW + timedelta(minutes=n), f"第{n}件：容积率调整").id
               for n in range(3)]
    left = routed_case(session, NOW + timedelta(minutes=5))
    session.execute(update(Case).where(Case.id == left.id).values(description="容积率调整"))
    for n in range(4):  # newer waiting cases without the word fill the window
        new_case(session, NOW + timedelta(minutes=10 + n), "用电增容")
    if segmented:
        while refresh(session):
            pass
    page = operator_queue(session, QueueFilters(q="容积率"), today=NOW.date())
    assert [c.id for c in page.rows] == waiting[::-1]


def test_older_cases_come_from_the_index_matches_first() -> None:
    """Step 2 (PostgreSQL) takes the GIN index's matches first (a materialized CTE); left to
    itself the planner sometimes walked back through every older case of the list instead
    (用电 莼湖: 32,000 cases looked up for 1,981 matches, ~0.27 s at a million cases)."""
    from datetime import datetime

    from sqlalchemy.dialects import postgresql

    search = casesearch.parse("用电 莼湖")
    assert search is not None
    sql = str(casesearch.older_statement(select(Case), search, [], (datetime(2026, 1, 1), 1), 31)
              .compile(dialect=postgresql.dialect()))
    assert "WITH matches AS MATERIALIZED" in sql and "JOIN matches ON" in sql
