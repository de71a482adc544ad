"""The judgement calls the notice leaves open, as settings (declared in ``core.settings``).

Each one is documented in ``docs/reports.md``; the defaults follow the notice's wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cases.vocab import SATISFIED_MIN_SCORE
from core.settings import setting

ACCOUNTABILITY_RULES = ("delay", "perfunctory", "unsatisfied")
RULE_LABELS = {"delay": "久拖不办", "perfunctory": "敷衍塞责", "unsatisfied": "不满意"}


@dataclass(frozen=True)
class ReportSettings:
    # 满意率: the lowest rating counted as satisfied (3 = 基本满意 counts).
    satisfied_min_score: int = SATISFIED_MIN_SCORE
    # 久拖不办: overdue by at least this many working days.
    delay_working_days: int = 3
    # Which accountability rules are applied.
    accountability_rules: tuple[str, ...] = ACCOUNTABILITY_RULES
    # Operator answered "in time" when the ring time is known and at most this many seconds.
    operator_answer_seconds: int = 15
    # Hot topics: how many keywords per area, and how many repeated requests make a
    # "repeat enterprise".
    keywords_per_area: int = 8
    repeat_requests: int = 3
    # The office-hours queue (reports/queue_figures.py): service level within this many
    # seconds; abandons sooner than this are short abandons, counted apart.
    queue_service_level_seconds: int = 20
    queue_short_abandon_seconds: int = 5


def check(config: Mapping[str, Any]) -> None:
    """Refuse accountability rules that do not exist (the app stops at start-up)."""
    unknown = [r for r in setting(config, "REPORTS_ACCOUNTABILITY_RULES")
               if r not in ACCOUNTABILITY_RULES]
    if unknown:
        raise ValueError(f"REPORTS_ACCOUNTABILITY_RULES: unknown rule(s) {', '.join(unknown)}")


def settings_from(config: Mapping[str, Any]) -> ReportSettings:
    """The settings of an app's config (declared defaults where a key is missing)."""
    return ReportSettings(
        satisfied_min_score=int(setting(config, "REPORTS_SATISFIED_MIN_SCORE")),
        delay_working_days=int(setting(config, "REPORTS_DELAY_WORKING_DAYS")),
        accountability_rules=tuple(setting(config, "REPORTS_ACCOUNTABILITY_RULES")),
        operator_answer_seconds=int(setting(config, "REPORTS_OPERATOR_ANSWER_SECONDS")),
        queue_service_level_seconds=int(setting(config, "QUEUE_SERVICE_LEVEL_SECONDS")),
        queue_short_abandon_seconds=int(setting(config, "QUEUE_SHORT_ABANDON_SECONDS")),
    )
