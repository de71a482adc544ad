"""Search quality: recall@1 and recall@3 of a set of queries with their expected article."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from cases.errors import InvalidInput
from knowledge.search import search

STARTER_SET = Path(__file__).parent / "evaluation" / "starter_queries.csv"


@dataclass(frozen=True)
class Miss:
    query: str
    expected: str
    got: list[str]


@dataclass
class Report:
    total: int = 0
    at1: int = 0
    at3: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def recall_at_1(self) -> float:
        return self.at1 / self.total if self.total else 0.0

    @property
    def recall_at_3(self) -> float:
        return self.at3 / self.total if self.total else 0.0


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
        if not query or not expected:
            raise InvalidInput({f"第{line}行": "query 和 expected_title 都不能为空"})
        rows.append((query, expected))
    return rows


def evaluate(session: Session, rows: list[tuple[str, str]], *, today: date) -> Report:
    """Search each query among published articles; a miss lists the top three titles."""
    report = Report()
    for query, expected in rows:
        titles = [hit.title for hit in search(session, query, today=today, limit=3)]
        report.total += 1
        report.at1 += bool(titles) and titles[0] == expected
        if expected in titles:
            report.at3 += 1
        else:
            report.misses.append(Miss(query, expected, titles))
    return report
