"""Routing suggestions: keyword rules (``routing/rules.yaml``) → category and departments.

Suggestions help the operator; they never route a case by themselves. Matching works on the
case text with whitespace removed (Vosk transcripts come as space-separated words) and uses
longest match: a keyword found only inside a longer keyword's occurrence does not count
("技术改造" is about 技改 policy, not about 技术 services).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATEGORIES: dict[str, str] = {
    "factor": "要素保障",
    "policy": "政策咨询",
    "special": "专项服务",
    "other": "其他",
}

SUBCATEGORIES: dict[str, dict[str, str]] = {
    "factor": {
        "land": "土地厂房",
        "utilities": "水电气",
        "roads": "道路排污",
        "talent": "人才",
        "finance": "融资",
        "market": "市场",
    },
    "policy": {
        "industry": "产业",
        "talent_policy": "人才",
        "cost_relief": "降本减负",
    },
    "special": {
        "tech": "技术开发",
        "brand": "品牌管理",
        "accounting": "会计事务",
        "legal": "法律法务",
        "public_service": "涉企公共服务",
    },
}

# Less than one keyword: the caller's menu choice breaks ties and lifts near-ties, but the
# words of the request outweigh a possibly mistaken key press.
CATEGORY_BONUS = 0.5
# The sub-area the caller chose lifts its units a little further among the category's.
SUBCATEGORY_BONUS = 0.25

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.yaml")

_RULE_KEYS = {"keywords", "category", "subcategory", "departments"}


class RoutingRulesError(ValueError):
    """The rules file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    """Keywords that suggest a category and the departments that handle it."""

    keywords: tuple[str, ...]
    category: str
    subcategory: str | None
    departments: tuple[str, ...]


@dataclass(frozen=True)
class Suggestion:
    """A department that probably handles the case, with the evidence."""

    department: str
    score: float
    keywords: list[str] = field(default_factory=list)
    category: str = "other"
    subcategory: str | None = None


def _normalize(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _string_list(value: Any, what: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise RoutingRulesError(f"{where}: {what} must be a non-empty list")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise RoutingRulesError(f"{where}: every {what} entry must be a non-empty string")
    return tuple(dict.fromkeys(value))


def _parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RoutingRulesError(f"{where}: a rule must be a mapping")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RoutingRulesError(f"{where}: unknown key(s) {sorted(unknown)}")
    category = raw.get("category")
    if category not in CATEGORIES:
        raise RoutingRulesError(
            f"{where}: unknown category {category!r}; expected one of {sorted(CATEGORIES)}"
        )
    subcategory = raw.get("subcategory")
    allowed = SUBCATEGORIES.get(category, {})
    if subcategory is not None and subcategory not in allowed:
        raise RoutingRulesError(
            f"{where}: unknown subcategory {subcategory!r} for {category}; "
            f"expected one of {sorted(allowed)}"
        )
    keywords = tuple(
        dict.fromkeys(_normalize(k) for k in _string_list(raw.get("keywords"), "keywords", where))
    )
    departments = _string_list(raw.get("departments"), "departments", where)
    return Rule(keywords, category, subcategory, tuple(d.strip() for d in departments))


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """Read and validate a rules file (default: ``routing/rules.yaml``)."""
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RoutingRulesError(f"{source}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RoutingRulesError(f"{source}: expected a mapping with a 'rules' list")
    return [_parse_rule(raw, f"{source}: rule {i + 1}") for i, raw in enumerate(data["rules"])]


@functools.lru_cache(maxsize=1)
def _default_rules() -> tuple[Rule, ...]:
    # Parsed once per process: suggestions are computed for every transcript and form.
    return tuple(load_rules())


def _hits(text: str, keywords: Iterable[str]) -> set[str]:
    """Keywords occurring in ``text`` at least once outside a longer keyword's occurrence."""
    spans: list[tuple[int, int, str]] = []
    for keyword in set(keywords):
        start = text.find(keyword)
        while start != -1:
            spans.append((start, start + len(keyword), keyword))
            start = text.find(keyword, start + 1)
    return {
        keyword
        for start, end, keyword in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
    }


@dataclass
class _RuleMatch:
    index: int
    rule: Rule
    keywords: list[str]

    def strength(self, category: str | None) -> tuple[int, int, bool, int]:
        """Sort key, larger is better: hits, matched characters, menu match, earlier rule."""
        chars = sum(len(k) for k in self.keywords)
        return (len(self.keywords), chars, self.rule.category == category, -self.index)


def _matches(text: str, rules: Sequence[Rule]) -> list[_RuleMatch]:
    normalized = _normalize(text)
    if not normalized:
        return []
    found = _hits(normalized, (k for rule in rules for k in rule.keywords))
    matches = []
    for index, rule in enumerate(rules):
        keywords = [k for k in rule.keywords if k in found]
        if keywords:
            matches.append(_RuleMatch(index, rule, keywords))
    return matches


def suggest(
    text: str, *, category: str | None = None, subcategory: str | None = None,
    rules: Sequence[Rule] | None = None,
) -> list[Suggestion]:
    """Departments for a case text, best first.

    A department's score is the number of distinct keywords hit by the rules naming it, plus
    :data:`CATEGORY_BONUS` if one of those rules has the caller's menu ``category``, plus
    :data:`SUBCATEGORY_BONUS` if one has the caller's ``subcategory`` too. Ties go
    to more matched characters, then the earlier rule, then the rule's department order.
    """
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of {sorted(CATEGORIES)}")
    matches = _matches(text, _default_rules() if rules is None else rules)
    by_department: dict[str, list[_RuleMatch]] = {}
    for match in matches:
        for department in match.rule.departments:
            by_department.setdefault(department, []).append(match)
    ranked: list[tuple[tuple[float, int, int, int], Suggestion]] = []
    for department, department_matches in by_department.items():
        keywords = sorted(
            {k for m in department_matches for k in m.keywords},
            key=lambda k: (-len(k), k),
        )
        in_menu = any(m.rule.category == category for m in department_matches)
        in_sub_area = subcategory is not None and any(
            m.rule.category == category and m.rule.subcategory == subcategory
            for m in department_matches)
        score = len(keywords) + (CATEGORY_BONUS if in_menu else 0.0) \
            + (SUBCATEGORY_BONUS if in_sub_area else 0.0)
        best = max(department_matches, key=lambda m: m.strength(category))
        suggestion = Suggestion(
            department, score, keywords, best.rule.category, best.rule.subcategory
        )
        chars = sum(len(k) for k in keywords)
        first = min(department_matches, key=lambda m: m.index)
        # The rules list departments primary first: keep that order among equals.
        position = first.rule.departments.index(department)
        ranked.append(((-score, -chars, first.index, position), suggestion))
    ranked.sort(key=lambda item: item[0])
    return [suggestion for _, suggestion in ranked]


def suggest_from_menu(category: str | None, subcategory: str | None = None, *,
                      rules: Sequence[Rule] | None = None) -> list[Suggestion]:
    """Departments for the caller's menu choice alone (no words to go on yet, e.g. a night
    voicemail before its transcript): the rules of that sub-area (or, without one, of the
    category), in rule order, each with the menu bonus as its score and no keywords."""
    if category not in CATEGORIES:
        return []
    chosen = [r for r in (_default_rules() if rules is None else rules)
              if r.category == category and (subcategory is None or r.subcategory == subcategory)]
    if subcategory is None:  # a whole category is weak evidence: its first rule only
        chosen = chosen[:1]
    found: dict[str, Suggestion] = {}
    for rule in chosen:
        for department in rule.departments:
            found.setdefault(department, Suggestion(department, CATEGORY_BONUS, [],
                                                    rule.category, rule.subcategory))
    return list(found.values())


def suggest_category(
    text: str, *, rules: Sequence[Rule] | None = None
) -> tuple[str, str | None] | None:
    """The most likely ``(category, subcategory)`` for a case text, or ``None``.

    Rules with the same category and subcategory pool their keywords; the pool with the most
    distinct keywords wins, then the most matched characters, then the earliest rule.
    """
    matches = _matches(text, _default_rules() if rules is None else rules)
    pools: dict[tuple[str, str | None], tuple[set[str], int]] = {}
    for match in matches:
        key = (match.rule.category, match.rule.subcategory)
        keywords, first = pools.get(key, (set(), match.index))
        pools[key] = (keywords | set(match.keywords), first)
    if not pools:
        return None

    def strength(key: tuple[str, str | None]) -> tuple[int, int, int]:
        keywords, first = pools[key]
        return (len(keywords), sum(len(k) for k in keywords), -first)

    return max(pools, key=strength)
