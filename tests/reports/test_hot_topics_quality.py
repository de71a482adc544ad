"""Hot topics that mean something, measured on the labelled set of requests."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases import duplicates
from cases.intake import VOICEMAIL_PLACEHOLDER
from reports import periods
from reports.hot_topics import EVALUATION_PATH, evaluate, hot_topics, labelled_set, topic_words
from reports.indicators import Scope
from tests.cases.factories import OPERATOR, local, new_case

SCOPE = Scope(period=periods.month(2026, 11), today=date(2026, 11, 30),
              tz=ZoneInfo("Asia/Shanghai"))


def test_the_labelled_set_is_large_and_varied() -> None:
    rows = labelled_set()
    assert len(rows) >= 200
    assert len({text for _a, text, _t in rows}) == len(rows)
    assert len({topic for *_r, topics in rows for topic in topics}) >= 40


def test_precision_at_10_on_the_labelled_set() -> None:
    result = evaluate(EVALUATION_PATH, 10)
    assert result.precision >= 0.8, (result.precision, result.lists)
    for label, (hits, listed) in result.areas.items():
        assert listed == 10 and hits >= 7, (label, result.lists[label])


def test_topic_words_keep_domain_terms_whole_and_drop_numbers_units_and_fillers() -> None:
    words = topic_words("您好，我们公司在江口街道，新建车间需要办理用电报装，申请容量800千伏安，"
                        "王先生说今年订单增加30%，麻烦尽快回复，谢谢。")
    assert "用电报装" in words and not words & {"电报", "用电"}
    assert not any(re.search(r"\d", w) for w in words)
    assert not words & {"千伏安", "江口", "江口街道", "王先生", "今年", "尽快", "麻烦", "谢谢",
                        "公司", "申请", "办理", "您好"}


def test_placeholders_and_merged_repeats_are_no_topic(session: Session) -> None:
    for day in (3, 4, 5):
        new_case(session, local(f"2026-11-{day:02d} 22:00"), VOICEMAIL_PLACEHOLDER,
                 channel="hotline_voicemail")
    phone = "13800138000"
    first = new_case(session, local("2026-11-06 09:00"), "厂区门口道路破损严重，货车进出困难",
                     category="factor", contact_phone=phone)
    for day in (9, 10):
        repeat = new_case(session, local(f"2026-11-{day:02d} 09:00"),
                          "还是厂区门口道路破损的问题，路面塌陷越来越大", category="factor",
                          contact_phone=phone)
        duplicates.merge(session, repeat.id, into_id=first.id, reason="重复来诉", actor=OPERATOR,
                         now=local(f"2026-11-{day:02d} 10:00"))
    new_case(session, local("2026-11-12 09:00"), "新厂区用电报装进度太慢", category="factor")
    session.commit()
    topics = hot_topics(session, SCOPE, per_area=10)
    listed = {k.word: k.cases for area in topics.areas for k in area.keywords}
    assert not set(listed) & {"电话", "留言", "待转写", "电话留言"}
    assert listed["道路破损"] == 1  # the merged repeats are part of the first case
    assert "路面塌陷" not in "".join(listed) and "塌陷" not in listed
    assert listed["用电报装"] == 1


def test_the_cli_reports_precision(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["reports", "hot-topics-evaluate"])
    assert result.exit_code == 0, result.output
    assert re.search(r"precision@10：0\.\d{3}", result.output)
    assert "要素保障" in result.output and "用电报装" in result.output
