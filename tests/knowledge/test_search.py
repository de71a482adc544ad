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
from tests.knowledge.conftest import CENTRE, TODAY, db_now, liaison, publish


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


def live_df(session: Session, day: date = TODAY) -> dict[str, int]:
    """Document frequencies counted for ``day`` (summed over the validity ranges)."""
    rows = session.execute(select(TermStat.token, TermStat.df, TermStat.valid_from,
                                  TermStat.valid_until)).tuples().all()
    counts: dict[str, int] = {}
    for token, df, low, high in rows:
        if low <= day <= high:
            counts[token] = counts.get(token, 0) + df
    return counts


def test_editing_reindexes_and_keeps_document_frequencies(session: Session) -> None:
    article_id = publish(session, "排污纳管", "排污问题。")
    df = live_df(session)
    assert df["排污"] == 1 and df[kb_search.DOCS_KEY] == 1
    update_article(session, article_id, ArticleInput(title="用电增容", answer="用电问题。"),
                   actor=CENTRE, now=db_now())
    df = live_df(session)
    assert "排污" not in df and df["用电"] == 1 and df[kb_search.DOCS_KEY] == 1
    assert titles(session, "排污") == []
    assert titles(session, "用电增容") == ["用电增容"]


def test_statistics_count_published_articles_in_force_only(session: Session) -> None:
    """Drafts, articles under review or withdrawn, and dates outside validity count nothing."""
    now = db_now()
    draft = create_article(session, ArticleInput(title="排污草稿", answer="排污"), actor=CENTRE,
                           now=now)
    assert "排污" not in live_df(session) and kb_search.DOCS_KEY not in live_df(session)
    transition(session, draft.id, "published", actor=CENTRE, now=now)
    assert live_df(session)["排污"] == 1
    transition(session, draft.id, "withdrawn", actor=CENTRE, now=now, note="过时")
    assert "排污" not in live_df(session)
    dated = publish(session, "排污年度", "排污", valid_from=TODAY,
                    valid_until=TODAY + timedelta(days=30))
    assert live_df(session)["排污"] == 1
    assert "排污" not in live_df(session, TODAY - timedelta(days=1))
    assert "排污" not in live_df(session, TODAY + timedelta(days=31))
    update_article(session, dated, ArticleInput(title="排污年度", answer="排污",
                                                valid_until=TODAY - timedelta(days=1)),
                   actor=CENTRE, now=now)  # the dates move: the counts move with them
    assert "排污" not in live_df(session)
    assert live_df(session, TODAY - timedelta(days=1))["排污"] == 1
    unit = liaison(session)
    mine = publish(session, "融资专栏", "融资", department_id=unit.department_id)
    assert live_df(session)["融资"] == 1
    update_article(session, mine, ArticleInput(title="融资专栏", answer="融资贷款"),
                   actor=unit, now=now)  # a unit's edit goes back to draft
    assert "融资" not in live_df(session)
    counts = dict(live_df(session))
    assert kb_search.reindex_all(session) == 3
    assert live_df(session) == counts  # rebuilt from scratch: the same figures


def test_drafts_and_expired_articles_never_change_a_ranking(session: Session) -> None:
    """The same hits with the same scores, whatever unpublished or expired articles exist."""
    publish(session, "企业贷款难怎么办", "融资问题可以向区金融发展服务中心反映。",
            ["资金周转困难"])
    publish(session, "银行续贷", "续贷和转贷问题。", ["银行不给续贷"])
    publish(session, "用电增容", "用电问题。")
    session.commit()
    query = "银行不给续贷，资金周转困难"
    before = search(session, query, today=TODAY, min_relevance=0)
    assert {h.title for h in before} == {"银行续贷", "企业贷款难怎么办"}
    now = db_now()
    for n in range(6):  # many unpublished and expired articles with the same words
        create_article(session, ArticleInput(title=f"续贷草稿{n}", answer="银行续贷资金周转",
                                             questions=["银行不给续贷"]), actor=CENTRE, now=now)
        withdrawn = publish(session, f"续贷撤下{n}", "银行续贷资金")
        transition(session, withdrawn, "withdrawn", actor=CENTRE, now=now, note="过时")
        publish(session, f"续贷过期{n}", "银行续贷", valid_until=TODAY - timedelta(days=1))
        publish(session, f"续贷未生效{n}", "资金周转", valid_from=TODAY + timedelta(days=1))
    session.commit()
    assert search(session, query, today=TODAY, min_relevance=0) == before


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
    """Over the candidate budget even for its rarest word, only titles and phrasings are
    searched."""
    for n in range(3):
        publish(session, f"其他问题{n}", "企业服务中心答复。")
    title = publish(session, "服务中心地址", "三楼。")
    monkeypatch.setattr(kb_search, "CANDIDATE_BUDGET", 1)
    terms = kb_search._informative(session, kb_search.build_query(session, "服务中心"), TODAY)
    assert terms.common_only and terms.selective[0] == "服务中心"
    assert search(session, "服务中心", today=TODAY)[0].article_id == title


# -- how callers say it: the colloquial dictionary, fillers, no good answer ------------------


@pytest.fixture
def topics(session: Session) -> dict[str, int]:
    ids = {
        "loan": publish(session, "融资问题怎么反映",
                        "贷款、资金周转问题由区金融发展服务中心办理。"),
        "land": publish(session, "工业用地问题找谁", "用地审批由区自然资源规划分局办理。"),
        "sewage": publish(session, "污水纳管找谁", "污水排放和纳管由区生态环境分局办理。"),
        "permit": publish(session, "许可证办理", "各类许可证由区政务办受理。"),
        "progress": publish(session, "怎么查询办理进度", "主菜单按9输入诉求编号查询进度。"),
        "hours": publish(session, "热线服务时间", "24小时受理。"),
    }
    session.commit()
    return ids


@pytest.mark.parametrize(("query", "topic"), [
    ("我们公司想借钱", "loan"),  # 借钱 → 贷款
    ("阿拉厂里缺钱", "loan"),  # 钱 standing alone, dialect 阿拉
    ("铜钿周转不开", "loan"),  # 方言 money
    ("那块地块批不下来", "land"),  # 地块 → 用地
    ("废水往哪里排", "sewage"),  # 废水 → 污水
    ("办个证跑了好几趟", "permit"),  # 证 → 许可证
    ("我反映的事情怎么样了", "progress"),  # 怎么样了 → 进度
    ("上个礼拜报的事体哪能了", "progress"),  # 方言 哪能了
    ("查一下进渡", "progress"),  # 误听 进渡
])
def test_callers_words_find_the_articles_words(session: Session, topics: dict[str, int],
                                               query: str, topic: str) -> None:
    hits = search(session, query, today=TODAY)
    assert hits and hits[0].article_id == topics[topic], [h.title for h in hits]


@pytest.mark.parametrize(("query", "topic"), [
    ("污水纳不了管", "sewage"),  # 纳管 split by a potential complement (离合词)
    ("贷不到款，厂里急死了", "loan"),  # 贷款
])
def test_a_word_split_by_a_complement_is_read_whole(session: Session, topics: dict[str, int],
                                                    query: str, topic: str) -> None:
    hits = search(session, query, today=TODAY)
    assert hits and hits[0].article_id == topics[topic], [h.title for h in hits]


def test_only_dictionary_words_are_rejoined() -> None:
    assert kb_search.split_words("纳不了管 贷不到款 招不到人 看不起病") == [
        "纳管", "贷款", "招人", "看病"]
    assert kb_search.split_words("接不进去 搞不了生产 吃不了饭") == []


def test_complements_and_negated_modals_are_fillers(session: Session,
                                                    topics: dict[str, int]) -> None:
    """“不了” in “搞不了” outranked 用电 (it was a content word of “办不了”)."""
    assert kb_search.build_query(session, "搞不了 不能 不会 这里 进去").concepts == []


def test_what_the_centre_is_for_is_a_question_of_its_own(session: Session) -> None:
    """The question words are fillers: “8718是做啥个的” said only 8718 without these."""
    about = publish(session, "综合服务中心是做什么的", "8718综合服务中心负责企业诉求。")
    publish(session, "8718热线服务时间", "8718热线24小时受理。")
    session.commit()
    assert titles(session, "8718到底是做啥个的")[0] == "综合服务中心是做什么的"
    assert search(session, "8718到底是做啥个的", today=TODAY)[0].article_id == about


def test_colloquial_words_count_only_as_whole_words(session: Session,
                                                    topics: dict[str, int]) -> None:
    """结婚证 is not 证, 价钱 is not 钱: neither finds an article."""
    for query in ("结婚证", "价钱"):
        query_words = kb_search.build_query(session, query).words
        assert "许可证" not in query_words and "贷款" not in query_words
    assert "许可证" in kb_search.build_query(session, "办个证").words


def test_fillers_do_not_outrank_content_words(session: Session) -> None:
    """做, 帮忙, 找, 谁, 地方 in a question say nothing about its topic."""
    filler = publish(session, "帮忙找谁做", "找个地方帮忙。", ["谁能帮忙", "去什么地方找"])
    content = publish(session, "排污许可", "排污许可证办理。")
    session.commit()
    hits = search(session, "谁能帮忙找个地方做排污许可", today=TODAY, min_relevance=0)
    assert [h.article_id for h in hits] == [content]
    assert filler not in {h.article_id for h in hits}
    assert kb_search.build_query(session, "谁能帮忙找个地方做").concepts == []


def test_no_good_answer_below_the_threshold(session: Session, topics: dict[str, int]) -> None:
    """A question about something else that shares one word is no answer; 0 shows it anyway."""
    question = "社区医院挂号几点开始排队"
    weak = search(session, question, today=TODAY, min_relevance=0)
    assert weak and weak[0].article_id == topics["hours"]
    assert weak[0].relevance < kb_search.NO_ANSWER_BELOW
    assert search(session, question, today=TODAY) == []
    good = search(session, "热线服务时间", today=TODAY)
    assert good[0].article_id == topics["hours"] and good[0].relevance == 1.0


@pytest.mark.postgresql_only
def test_postgresql_ranks_a_title_above_phrasings_whatever_the_length(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's ``ts_rank`` (``PG_RANK_WEIGHTS``) chooses which candidates get scored:
    with room for one, the article naming the word in its title must be the one, although it
    is the longer document and the other has the word in a phrasing (and so in its bigrams).
    With the title's and the bigrams' weights swapped, the phrasing wins."""
    monkeypatch.setattr(kb_search, "POOL", 1)
    in_title = publish(session, "融资担保服务",
                       "中心协助企业对接银行和担保机构，办理流程、所需材料、审核时限和收费标准"
                       "详见服务指南，企业可在工作日到中心窗口咨询或电话预约上门服务。")
    in_phrasing = publish(session, "企业服务指南", "请来电。", ["怎么融资"])
    assert [h.article_id for h in search(session, "融资", today=TODAY)] == [in_title]
    monkeypatch.setattr(kb_search, "POOL", 2)
    assert [h.article_id for h in search(session, "融资", today=TODAY)] == [
        in_title, in_phrasing]
