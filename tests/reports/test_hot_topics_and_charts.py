"""Hot topics on a small Chinese corpus; charts drawn with a CJK font, no missing glyphs."""

from __future__ import annotations

import logging
import warnings
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.case_models import Case
from cases.models import Enterprise
from reports import charts, periods
from reports.hot_topics import cases_mentioning, hot_topics, topic_words
from reports.indicators import Scope
from tests.cases.factories import local, new_case

SCOPE = Scope(period=periods.month(2026, 11), today=date(2026, 11, 30),
              tz=ZoneInfo("Asia/Shanghai"))
CORPUS = [
    ("2026-11-03 09:00", "factor", "新建厂房需要用电增容，希望尽快接电"),
    ("2026-11-05 09:00", "factor", "车间扩产用电增容手续怎么办理"),
    ("2026-11-09 09:00", "factor", "用电增容审批进度太慢"),
    ("2026-11-10 09:00", "factor", "工业用地土地证办理"),
    ("2026-11-11 09:00", "policy", "增值税留抵退税政策咨询"),
    ("2026-11-12 09:00", "policy", "留抵退税什么时候到账"),
    ("2026-11-13 09:00", "special", "专利申请补助怎么申报"),
    ("2026-10-14 09:00", "factor", "用电增容咨询"),
]


def build(session: Session) -> Enterprise:
    company = Enterprise(name="宁波某某机械有限公司")
    session.add(company)
    session.flush()
    for index, (when, area, text) in enumerate(CORPUS):
        new_case(session, local(when), description=text, category=area,
                 enterprise_id=company.id if index < 3 else None)
    session.commit()
    return company


def test_topic_words_keep_the_notice_terms_and_drop_how_people_ask() -> None:
    words = topic_words("我们公司想咨询最多跑一地和用电增容的问题")
    # The shared tokenizer may know 用电增容 as one word (the knowledge base adds titles).
    assert "最多跑一地" in words and words & {"用电增容", "增容"}
    assert not words & {"我们", "的", "公司", "咨询", "问题"}


def test_hot_topics_per_area_rising_and_repeat_enterprises(session: Session) -> None:
    company = build(session)
    topics = hot_topics(session, SCOPE, per_area=3)
    factor = next(a for a in topics.areas if a.area == "factor")
    # 用电增容 (one word or two, as the shared tokenizer knows it) is in 3 of the 4 cases.
    power, refund = topic_words("用电增容"), topic_words("留抵退税")
    assert factor.cases == 4
    assert factor.keywords[0].word in power and factor.keywords[0].cases == 3
    policy = next(a for a in topics.areas if a.area == "policy")
    assert policy.keywords[0].word in refund and policy.keywords[0].cases == 2
    rising = {r.word: (r.previous, r.current) for r in topics.rising}
    assert all(rising[word] == (1, 3) for word in power)
    assert all(rising[word] == (0, 2) for word in refund)
    assert [(e.enterprise_id, e.cases) for e in topics.repeat_enterprises] == [(company.id, 3)]
    linked = set(session.scalars(select(Case.description).where(
        Case.id.in_(cases_mentioning("增容", SCOPE, "factor")))))
    assert len(linked) == 3 and all("增容" in text for text in linked)


def test_charts_use_a_cjk_font_without_missing_glyphs() -> None:
    assert charts.cjk_font() is not None, "install fonts-wqy-microhei"
    months = ["2026-10", "2026-11"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = [
            charts.volume_by_area(months, {("2026-11", "factor"): 3},
                                  {"factor": "要素保障", "policy": "政策咨询"}),
            charts.rate_trend(months, [None, 0.75], [1.0, 0.5]),
            charts.unit_bars(["区经信局", "区金融发展服务中心"], [6, 2], [2, 0]),
        ]
    assert not [w for w in caught if "missing from" in str(w.message)], \
        [str(w.message) for w in caught]
    assert all(image[:4] == b"\x89PNG" for image in images)


def test_month_labels_write_the_year_in_full() -> None:
    assert charts.month_labels(["2025-11", "2025-12", "2026-01", "2026-02"]) == [
        "2025年11月", "12月", "2026年1月", "2月"]
    figure = charts.volume_figure(["2025-12", "2026-01"], {("2026-01", "factor"): 2},
                                  {"factor": "要素保障"})
    shown = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert shown == ["2025年12月", "2026年1月"] and not any("26年" in t[:3] for t in shown)


def test_a_year_of_months_keeps_one_bar_per_month() -> None:
    """Labels repeat across years (2月 twice): each month stays its own bar."""
    months = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)][1:15]
    figure = charts.volume_figure(months, {(m, "factor"): 1 for m in months},
                                  {"factor": "要素保障"})
    assert len(figure.axes[0].patches) == len(months)


def test_trend_lines_that_coincide_stay_visible_and_the_legend_covers_nothing() -> None:
    figure = charts.trend_figure(["2026-10", "2026-11"], [1.0, 1.0], [1.0, 1.0])
    axes = figure.axes[0]
    on_time, satisfaction = axes.get_lines()
    assert list(on_time.get_ydata()) == list(satisfaction.get_ydata())  # the same points
    # The one drawn below is hollow and larger, dashed: the other shows inside it.
    assert satisfaction.get_zorder() < on_time.get_zorder()
    assert satisfaction.get_markerfacecolor() == "none"
    assert satisfaction.get_markersize() > on_time.get_markersize()
    assert satisfaction.get_linestyle() != on_time.get_linestyle()
    figure.canvas.draw()
    legend = axes.get_legend().get_window_extent()
    plot = axes.get_window_extent()
    assert legend.y0 >= plot.y1  # above the plot area, over no point
    assert axes.get_ylim()[1] > 100  # a 100 % point is not cut at the frame


def test_start_up_warns_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="reports.charts"):
        assert charts.warn_if_no_cjk_font() is False
    assert "no CJK font found" in caplog.text and "fonts-wqy-microhei" in caplog.text
