"""Search quality: recall@1 and recall@3, and how well “no good answer” is told apart.

An evaluation file is a CSV ``query,expected_title``; an empty expected title marks a query
the knowledge base has no answer for. Two sets ship with the code, written the way callers
speak (dialect, speech-recognition slips, fillers):

- ``tuning_queries.csv``: the set the dictionaries, weights and threshold are tuned on;
- ``held_out_queries.csv``: written before the first tuning; its misses were worked on in
  the second round, so it is tuning data now;
- ``fresh_held_out_queries.csv``: written before the second round and never tuned on — the
  honest figure.

Every query is searched with no threshold; a query counts as answered “no good answer” when
its best hit's relevance is below the threshold. So one pass gives the figures for any
threshold (:meth:`Report.at`), which is how ``--calibrate`` chooses it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from cases.errors import InvalidInput
from knowledge.search import NO_ANSWER_BELOW, search

EVALUATION_DIR = Path(__file__).parent / "evaluation"
TUNING_SET = EVALUATION_DIR / "tuning_queries.csv"
HELD_OUT_SET = EVALUATION_DIR / "held_out_queries.csv"
FRESH_SET = EVALUATION_DIR / "fresh_held_out_queries.csv"
SHIPPED_SETS = {"tuning": TUNING_SET, "held-out": HELD_OUT_SET, "fresh": FRESH_SET}


@dataclass(frozen=True)
class Outcome:
    """One query: what was expected ("" for no answer) and the top three (title, relevance)."""

    query: str
    expected: str
    got: list[tuple[str, float]]

    def shown(self, threshold: float) -> list[str]:
        return [title for title, share in self.got if share >= threshold]


@dataclass(frozen=True)
class Figures:
    """The measures of a set at one threshold."""

    threshold: float
    answerable: int
    at1: int
    at3: int
    unanswerable: int
    said_none: int  # queries given no result
    said_none_rightly: int  # … of which have no answer indeed

    @property
    def recall_at_1(self) -> float:
        return self.at1 / self.answerable if self.answerable else 0.0

    @property
    def recall_at_3(self) -> float:
        return self.at3 / self.answerable if self.answerable else 0.0

    @property
    def no_answer_precision(self) -> float:
        """Of the queries given no result, the share that has no answer indeed."""
        return self.said_none_rightly / self.said_none if self.said_none else 1.0

    @property
    def no_answer_recall(self) -> float:
        """Of the queries with no answer, the share given no result."""
        return self.said_none_rightly / self.unanswerable if self.unanswerable else 1.0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    def at(self, threshold: float = NO_ANSWER_BELOW) -> Figures:
        at1 = at3 = said_none = rightly = 0
        for outcome in self.outcomes:
            shown = outcome.shown(threshold)
            if not shown:
                said_none += 1
                rightly += not outcome.expected
            if outcome.expected:
                at1 += shown[:1] == [outcome.expected]
                at3 += outcome.expected in shown
        answerable = sum(1 for o in self.outcomes if o.expected)
        return Figures(threshold, answerable, at1, at3, self.total - answerable, said_none,
                       rightly)

    def misses(self, threshold: float = NO_ANSWER_BELOW) -> list[Outcome]:
        """Answerable queries without their answer in the top three, and wrongly answered
        queries that have no answer."""
        return [o for o in self.outcomes
                if (o.expected and o.expected not in o.shown(threshold))
                or (not o.expected and o.shown(threshold))]

    def calibration(self, steps: int = 20) -> list[Figures]:
        """The figures at thresholds 0, 0.05, … 0.95."""
        return [self.at(round(i / steps, 4)) for i in range(steps)]


def read_queries(content: str) -> list[tuple[str, str]]:
    """``(query, expected_title)`` rows of a CSV with exactly those two columns."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != [
            "query", "expected_title"]:
        raise InvalidInput({"header": "表头应为 query,expected_title"})
    rows = []
    for line, row in enumerate(reader, start=2):
        query = (row.get("query") or "").strip()
        expected = (row.get("expected_title") or "").strip()
        if not query:
            raise InvalidInput({f"第{line}行": "query 不能为空（expected_title 为空表示没有答案）"})
        rows.append((query, expected))
    return rows


def evaluate(session: Session, rows: list[tuple[str, str]], *, today: date) -> Report:
    """Search each query among published articles (no threshold: it is applied afterwards)."""
    report = Report()
    for query, expected in rows:
        hits = search(session, query, today=today, limit=3, min_relevance=0.0)
        report.outcomes.append(Outcome(query, expected,
                                       [(hit.title, hit.relevance) for hit in hits]))
    return report
