"""Search in the database: ranking, filters (draft, expired, phone), synonyms, matched words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from knowledge import search as kb_search
from knowledge.models import TermStat
from knowledge.search import bigrams, index_fields, parse_synonyms, replace_synonyms, search
from knowledge.service import ArticleInput, create_article, transition, update_article
from tests.knowledge.conftest import CENTRE, TODAY, db_now, publish


def titles(session: Session, query: str, **kwargs: object) -> list[str]:
    return [h.title for h in search(session, query, today=TODAY, **kwargs)]


def test_ranking_on_a_fixed_corpus(session: Session, corpus: dict[str, int]) -> None:
    assert titles(session, "公司资金周转困难，贷款难")[0] == "企业贷款难怎么办"
    assert titles(session, "想租厂房")[0] == "工业用地和厂房"
    assert titles(session, "退税")[:1] == ["税收优惠政策咨询"]
    assert titles(session, "晚上热线有人接吗")[0] == "热线服务时间"
    assert titles(session, "天气预报") == []


def test_a_title_word_outranks_the_same_word_in_an_answer(session: Session) -> None:
    for other in ("用电", "用水", "用气"):  # BM25's IDF needs a word rarer than in half
        publish(session, f"{other}问题", f"{other}。")
    in_answer = publish(session, "企业服务总则", "所有诉求都会登记，包括融资。")
    in_title = publish(session, "融资咨询", "请联系中心。")
    hits = search(session, "融资", today=TODAY)
    assert [h.article_id for h in hits] == [in_title, in_answer]
    assert hits[0].score > hits[1].score > 0
    assert hits[0].matched == ["融资"]


def test_rare_words_weigh_more_than_common_ones(session: Session) -> None:
    """IDF: the word in one article decides over a word every article shares."""
    for n in range(4):
        publish(session, f"企业问题{n}", "企业企业企业")
    rare = publish(session, "企业排污许可", "企业")
    assert search(session, "企业排污", today=TODAY)[0].article_id == rare


def test_drafts_review_withdrawn_and_expired_are_never_returned(session: Session) -> None:
    now = db_now()
    draft = create_article(session, ArticleInput(title="融资草稿", answer="融资"), actor=CENTRE,
                           now=now)
    review = create_article(session, ArticleInput(title="融资待审", answer="融资"),
                            actor=CENTRE, now=now)
    transition(session, review.id, "submitted", actor=CENTRE, now=now)
    withdrawn = publish(session, "融资撤下", "融资")
    transition(session, withdrawn, "withdrawn", actor=CENTRE, now=now, note="政策已调整")
    expired = publish(session, "融资过期", "融资", valid_until=TODAY - timedelta(days=1))
    future = publish(session, "融资未生效", "融资", valid_from=TODAY + timedelta(days=1))
    last_day = publish(session, "融资今天到期", "融资", valid_until=TODAY)
    session.commit()
    assert titles(session, "融资") == ["融资今天到期"]
    everything = {h.article_id for h in search(session, "融资", today=TODAY,
                                               published_only=False)}
    assert {draft.id, review.id, withdrawn, expired, future, last_day} <= everything
    assert titles(session, "融资", phone_only=True) == []


def test_synonyms_expand_the_query(session: Session) -> None:
    loan = publish(session, "贷款贴息", "向银行申请贷款。")
    assert search(session, "融资", today=TODAY) == []
    replace_synonyms(session, "贷款 融资\n# comment\n厂房,用房", db_now())
    hits = search(session, "融资", today=TODAY)
    assert [h.article_id for h in hits] == [loan]
    assert hits[0].matched == ["贷款"]
    assert kb_search.synonyms_text(session) == "贷款 融资\n厂房 用房"


def test_synonym_parsing() -> None:
    assert parse_synonyms("贷款 融资 贷款\n单独\n厂房，用房、车间 # x") == [
        ["贷款", "融资"], ["厂房", "用房", "车间"]]


def test_misheard_words_still_meet_through_bigrams(session: Session) -> None:
    """“专班上办” (misheard 专班商办) shares no word with the article, only the bigram 专班."""
    joint = publish(session, "专班商办", "多个部门协同办理。")
    publish(session, "上班时间", "工作日。")
    assert "专班" not in kb_search.build_query(session, "专班上办").words
    hits = search(session, "专班上办", today=TODAY)
    assert hits[0].article_id == joint and hits[0].matched == ["专班"]
    assert bigrams("办理，进度ab办") == ["办理", "进度"]


def test_editing_reindexes_and_keeps_document_frequencies(session: Session) -> None:
    article_id = publish(session, "排污纳管", "排污问题。")
    df = dict(session.execute(select(TermStat.token, TermStat.df)).tuples().all())
    assert df["排污"] == 1 and df[kb_search.DOCS_KEY] == 1
    update_article(session, article_id, ArticleInput(title="用电增容", answer="用电问题。"),
                   actor=CENTRE, now=db_now())
    df = dict(session.execute(select(TermStat.token, TermStat.df)).tuples().all())
    assert df["排污"] == 0 and df["用电"] == 1 and df[kb_search.DOCS_KEY] == 1
    assert titles(session, "排污") == []
    assert titles(session, "用电增容") == ["用电增容"]


def test_index_holds_the_segmented_tokens(session: Session) -> None:
    fields = index_fields("专班商办", ["跨部门怎么办"], "由企服专班牵头。")
    assert "专班商办" in fields.title.split()
    assert "企服专班" in fields.answer.split()
    article_id = publish(session, "专班商办", "由企服专班牵头。", ["跨部门怎么办"])
    column = "rowid" if session.get_bind().dialect.name == "sqlite" else "article_id"
    stored = session.execute(text(f"SELECT title FROM kb_search WHERE {column} = :id"),
                             {"id": article_id}).scalar_one()
    assert stored == fields.title


def test_long_texts_keep_only_the_most_informative_terms(session: Session) -> None:
    publish(session, "用电增容", "用电增容问题。")
    long_text = "我们公司的情况是这样的，" * 10 + "想问一下用电增容的事情。"
    query = kb_search.build_query(session, long_text)
    assert query.grams == []  # bigrams only for short questions
    assert titles(session, long_text) == ["用电增容"]


def test_today_decides_validity(session: Session) -> None:
    publish(session, "年度政策", "年度政策。", valid_until=date(2026, 12, 31))
    assert [h.title for h in search(session, "年度政策", today=date(2026, 12, 31))]
    assert search(session, "年度政策", today=date(2027, 1, 1)) == []


def test_a_query_of_common_words_only_still_finds_the_title(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the candidate budget even for its rarest word, PostgreSQL looks in titles only."""
    for n in range(3):
        publish(session, f"其他问题{n}", "企业服务中心答复。")
    title = publish(session, "服务中心地址", "三楼。")
    monkeypatch.setattr(kb_search, "CANDIDATE_BUDGET", 1)
    terms = kb_search._informative(session, ["服务中心"])
    assert terms.common_only and terms.selective == ["服务中心"]
    assert search(session, "服务中心", today=TODAY)[0].article_id == title
