"""Routing suggestions from keyword rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.rules import (
    CATEGORY_BONUS,
    RoutingRulesError,
    Rule,
    Suggestion,
    load_rules,
    suggest,
    suggest_category,
)

RULES = [
    Rule(("土地", "厂房"), "factor", "land", ("区自然资源规划分局",)),
    Rule(("税", "发票"), "policy", None, ("区税务局",)),
    Rule(("技术", "专利"), "special", None, ("区科技局",)),
    Rule(("技术改造", "补贴"), "policy", None, ("区经信局", "区财政局")),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_rules_load() -> None:
    assert len(load_rules()) >= 25


def test_shipped_rules_cover_every_category() -> None:
    assert {rule.category for rule in load_rules()} == {"factor", "policy", "special", "other"}


def test_unknown_category_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "rules:\n  - {keywords: [土地], category: land, departments: [甲]}\n")
    with pytest.raises(RoutingRulesError, match=r"rule 1: unknown category 'land'"):
        load_rules(path)


def test_subcategory_outside_its_category_is_an_error(tmp_path: Path) -> None:
    text = "rules:\n  - {keywords: [税], category: policy, subcategory: land, departments: [甲]}\n"
    with pytest.raises(RoutingRulesError, match="subcategory"):
        load_rules(_write(tmp_path, text))


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    text = "rules:\n  - {keyword: [税], category: policy, departments: [甲]}\n"
    with pytest.raises(RoutingRulesError, match="unknown key"):
        load_rules(_write(tmp_path, text))


def test_missing_departments_is_an_error(tmp_path: Path) -> None:
    text = "rules:\n  - {keywords: [税], category: policy}\n"
    with pytest.raises(RoutingRulesError, match="departments"):
        load_rules(_write(tmp_path, text))


def test_empty_text_gives_nothing() -> None:
    assert suggest("", rules=RULES) == []
    assert suggest("   ", rules=RULES) == []


def test_no_keyword_gives_nothing() -> None:
    assert suggest("今天天气不错", rules=RULES) == []


def test_suggestion_carries_evidence() -> None:
    assert suggest("厂房的土地证办不下来", rules=RULES) == [
        Suggestion("区自然资源规划分局", 2.0, ["厂房", "土地"], "factor", "land")
    ]


def test_more_distinct_keywords_rank_higher() -> None:
    ranked = suggest("发票和税的问题，还有厂房", rules=RULES)
    assert [s.department for s in ranked] == ["区税务局", "区自然资源规划分局"]


def test_repeated_keyword_counts_once() -> None:
    assert suggest("税税税税", rules=RULES)[0].score == 1.0


def test_menu_category_adds_weight() -> None:
    ranked = suggest("发票 厂房", category="factor", rules=RULES)
    assert [(s.department, s.score) for s in ranked] == [
        ("区自然资源规划分局", 1 + CATEGORY_BONUS),
        ("区税务局", 1.0),
    ]


def test_unknown_menu_category_rejected() -> None:
    with pytest.raises(ValueError):
        suggest("发票", category="land", rules=RULES)


def test_ties_follow_the_rules_department_order() -> None:
    assert [s.department for s in suggest("技术改造补贴", rules=RULES)] == ["区经信局", "区财政局"]
    swapped = [*RULES[:3], Rule(("技术改造", "补贴"), "policy", None, ("区财政局", "区经信局"))]
    assert [s.department for s in suggest("技术改造补贴", rules=swapped)] == [
        "区财政局",
        "区经信局",
    ]


def test_ties_between_rules_follow_rule_order() -> None:
    rules = [Rule(("发票",), "policy", None, ("乙",)), Rule(("厂房",), "factor", None, ("甲",))]
    assert [s.department for s in suggest("厂房发票", rules=rules)] == ["乙", "甲"]


def test_keyword_inside_longer_keyword_does_not_count() -> None:
    assert "区科技局" not in {s.department for s in suggest("技术改造", rules=RULES)}


def test_keyword_counts_when_it_also_occurs_alone() -> None:
    departments = {s.department for s in suggest("技术改造和技术难题", rules=RULES)}
    assert "区科技局" in departments


def test_transcript_spaces_are_ignored() -> None:
    assert suggest("厂 房 漏 水", rules=RULES)[0].department == "区自然资源规划分局"


def test_full_width_text_is_normalized() -> None:
    rules = [Rule(("erp",), "special", None, ("区经信局",))]
    assert suggest("ＥＲＰ系统", rules=rules)[0].department == "区经信局"


def test_default_rules_route_land_to_natural_resources() -> None:
    assert suggest("扩建厂房需要用地指标")[0].department == "区自然资源规划分局"


def test_default_rules_route_loans_to_finance_centre() -> None:
    assert suggest("想申请贷款，融资难")[0].department == "区金融发展服务中心"


def test_default_rules_route_talent_subsidy_to_talent_office() -> None:
    assert suggest("人才补贴怎么申请")[0].department == "区委人才办"


def test_default_rules_route_power_cuts_to_economy_bureau() -> None:
    top = suggest("停电 了 好几 天 ， 用电 增容 什么时候 能 批")[0]
    assert (top.department, top.category, top.subcategory) == ("区经信局", "factor", "utilities")


def test_default_rules_route_sewage_to_ecology_branch() -> None:
    assert suggest("污水纳管的环评手续")[0].department == "区生态环境分局"


def test_suggest_category_for_land() -> None:
    assert suggest_category("厂房的土地证", rules=RULES) == ("factor", "land")


def test_suggest_category_none_without_hits() -> None:
    assert suggest_category("你好", rules=RULES) is None


def test_suggest_category_prefers_more_keywords() -> None:
    assert suggest_category("发票和税，还有厂房", rules=RULES) == ("policy", None)


def test_suggest_category_with_default_rules() -> None:
    assert suggest_category("发票开不出来") == ("policy", None)


def test_the_callers_sub_area_lifts_its_units() -> None:
    from routing.rules import suggest

    text = "想咨询专利和品牌的事"
    assert suggest(text, category="special")[0].department == "区科技局"
    chosen = suggest(text, category="special", subcategory="brand")
    assert [(s.department, s.score) for s in chosen] == [("区市场监管局", 1.75), ("区科技局", 1.5)]
