"""The judgement calls the notice leaves open, as settings (environment, app config).

Each one is documented in ``docs/reports.md``; the defaults follow the notice's wording.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cases.vocab import SATISFIED_MIN_SCORE

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


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name) or default


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``REPORTS_*`` variables as app config values."""
    env = os.environ if environ is None else environ
    rules = tuple(r.strip() for r in _env(env, "REPORTS_ACCOUNTABILITY_RULES",
                                          ",".join(ACCOUNTABILITY_RULES)).split(",") if r.strip())
    unknown = [r for r in rules if r not in ACCOUNTABILITY_RULES]
    if unknown:
        raise ValueError(f"REPORTS_ACCOUNTABILITY_RULES: unknown rule(s) {', '.join(unknown)}")
    return {
        "REPORTS_SATISFIED_MIN_SCORE": int(_env(env, "REPORTS_SATISFIED_MIN_SCORE",
                                                str(SATISFIED_MIN_SCORE))),
        "REPORTS_DELAY_WORKING_DAYS": int(_env(env, "REPORTS_DELAY_WORKING_DAYS", "3")),
        "REPORTS_ACCOUNTABILITY_RULES": rules,
        "REPORTS_OPERATOR_ANSWER_SECONDS": int(_env(env, "REPORTS_OPERATOR_ANSWER_SECONDS",
                                                    "15")),
        "REPORTS_CACHE_SECONDS": int(_env(env, "REPORTS_CACHE_SECONDS", "60")),
    }


def settings_from(config: Mapping[str, Any]) -> ReportSettings:
    """The settings of an app's config (defaults where a key is missing)."""
    base = ReportSettings()
    return ReportSettings(
        satisfied_min_score=config.get("REPORTS_SATISFIED_MIN_SCORE", base.satisfied_min_score),
        delay_working_days=config.get("REPORTS_DELAY_WORKING_DAYS", base.delay_working_days),
        accountability_rules=tuple(config.get("REPORTS_ACCOUNTABILITY_RULES",
                                              base.accountability_rules)),
        operator_answer_seconds=config.get("REPORTS_OPERATOR_ANSWER_SECONDS",
                                           base.operator_answer_seconds),
        queue_service_level_seconds=int(config.get("QUEUE_SERVICE_LEVEL_SECONDS",
                                                   base.queue_service_level_seconds)),
        queue_short_abandon_seconds=int(config.get("QUEUE_SHORT_ABANDON_SECONDS",
                                                   base.queue_short_abandon_seconds)),
    )
