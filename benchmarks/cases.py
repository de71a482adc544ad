"""Cases at scale: a million cases in PostgreSQL, the page queries, the sweep, concurrent filing.

Creates a private database (``bench_cases_…``), migrates it, bulk-loads N cases with their
assignments, replies, ratings and audit events through COPY, then measures, with the app's
own query functions:

- the console's operator queue (unrouted, most urgent first; all categories, per category,
  overdue only; page 1 and a deep keyset page), a department's open assignments by due date
  (``console.queries``, what the pages run), case lookup by number;
- the overdue sweep (first run with work to do, then the idempotent re-run);
- filing under 8 concurrent writers (latency per filing, throughput, duplicate numbers);

each against a ``SELECT 1`` round trip measured in the same run, and prints the query plans.
The database is dropped at the end (``--keep`` keeps it).

    .venv/bin/python benchmarks/cases.py                      # 1,000,000 cases
    .venv/bin/python benchmarks/cases.py --cases 100000       # quicker

Long on purpose: one standalone script: the COPY loader's column layout and the queries it
times must change together; benchmarks/reports.py reuses the loader.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.case_models import Case
from cases.deadlines import Deadlines
from cases.intake import file_case
from cases.ledger import overdue_updates, sweep_overdue
from cases.models import Department
from cases.queries import case_by_number, case_lookup_query
from cases.seed import seed_departments
from cases.services import CaseServices
from cases.vocab import Channel
from console.queries import (
    QueueFilters,
    department_assignments,
    department_assignments_query,
    operator_queue,
    operator_queue_query,
)
from core.db import make_engine_url
from routing.rules import CATEGORIES, SUBCATEGORIES
from workdays.calendar import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
# The data ends on a Tuesday afternoon; "now" for every measurement.
NOW = datetime(2026, 11, 24, 17, 0, tzinfo=TZ).astimezone(UTC)
SPAN_DAYS = 1095
GOAL_MS = 50.0
WRITERS = 8
FILINGS_PER_WRITER = 100
CHANNEL_WEIGHTS = {
    Channel.HOTLINE_VOICEMAIL: 25, Channel.HOTLINE_OPERATOR: 20, Channel.WINDOW: 15,
    Channel.WEB_PLATFORM: 10, Channel.WECHAT: 10, Channel.YONGQIMA: 6, Channel.QIYEMA: 4,
    Channel.RESIDENT_OFFICER: 4, Channel.TASK_FORCE: 2, Channel.FORUM: 2, Channel.ASSOCIATION: 2,
}


def _texts() -> dict[str, list[str]]:
    """Realistic, varied requests by area: the hot topics' labelled set (some 300 texts)."""
    by_area: dict[str, list[str]] = {}
    path = Path(__file__).resolve().parent.parent / "reports" / "evaluation" / "hot_topics.csv"
    with path.open(encoding="utf-8") as source:
        for row in csv.DictReader(source):
            by_area.setdefault(row["area"], []).append(row["text"])
    return by_area


TEXTS_BY_AREA = _texts()
TEXTS = [text for texts in TEXTS_BY_AREA.values() for text in texts]


# -- database -------------------------------------------------------------------------------


@contextmanager
def private_database(admin_url: str, keep: bool, smoke: bool = False) -> Iterator[str]:
    """A fresh database for this run, dropped afterwards unless ``keep``; ``smoke``: cloned
    from the tests' migrated template (benchmarks/_smoke.py)."""
    from benchmarks._smoke import create_database

    url = make_url(make_engine_url(admin_url))
    name = f"bench_cases_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    create_database(admin, admin_url, name, smoke)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"\nkept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- data -----------------------------------------------------------------------------------


@dataclass
class Tables:
    """One CSV spool file per table, written in a single pass over the cases."""

    directory: Path
    columns: dict[str, list[str]]

    def __post_init__(self) -> None:
        self.files = {t: (self.directory / f"{t}.csv").open("w", newline="", encoding="utf-8")
                      for t in self.columns}
        self.writers = {t: csv.writer(f) for t, f in self.files.items()}
        self.counts = dict.fromkeys(self.columns, 0)

    def add(self, table: str, row: list[Any]) -> int:
        self.counts[table] += 1
        self.writers[table].writerow(row)
        return self.counts[table]

    def close(self) -> None:
        for f in self.files.values():
            f.close()


COLUMNS = {
    "cases": ["id", "number", "channel", "category", "subcategory", "contact_phone",
              "description", "needs_review", "mode", "status", "received_at", "received_on",
              "due_date", "due_provisional", "due_reason", "answered_at", "answered_on",
              "ledger_state", "rework_count", "created_by", "created_at", "updated_at"],
    "assignments": ["id", "case_id", "department_id", "role", "state", "round", "assigned_at",
                    "due_date", "due_provisional", "due_reason", "overdue", "replied_at",
                    "extension_agreed_with_enterprise", "enterprise_informed"],
    "replies": ["case_id", "assignment_id", "department_id", "text", "author", "replied_at"],
    "ratings": ["case_id", "score", "comment", "via", "rated_at", "rated_by", "round"],
    "case_events": ["case_id", "at", "actor_kind", "actor_name", "action", "before", "after",
                    "note"],
    "case_number_counters": ["day", "last"],
}
# Columns that may hold an empty string (CSV would read an empty field as NULL).
NOT_NULL_TEXT = {"ratings": ["comment"], "case_events": ["note"], "cases": ["due_reason"]}


def _b(value: bool) -> str:
    return "t" if value else "f"


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def generate(n: int, directory: Path, department_ids: list[int], task_force: list[int]
             ) -> dict[str, int]:
    """Write realistic rows for ``n`` cases spread over three years ending at ``NOW``."""
    rng = random.Random(8718)
    deadlines = Deadlines(WorkCalendar(), TZ)
    tables = Tables(directory, COLUMNS)
    channels, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    categories = [*CATEGORIES, None]
    # Task-force units get most of the work, as in practice.
    pool = task_force * 6 + department_ids
    start = NOW - timedelta(days=SPAN_DAYS)
    step = (NOW - start) / n
    sequence: dict[date, int] = {}
    for i in range(1, n + 1):
        received = start + step * i + timedelta(seconds=rng.random() * step.total_seconds())
        received = min(received, NOW - timedelta(seconds=1))
        day = received.astimezone(TZ).date()
        sequence[day] = sequence.get(day, 0) + 1
        number = f"{day:%y%m%d}{sequence[day]:04d}"
        age = (NOW - received).days
        category = rng.choice(categories)
        sub = rng.choice(list(SUBCATEGORIES[category])) if category == "factor" else None
        roll = rng.random()
        if age < 1:
            status = "received" if roll < 0.6 else ("handling" if roll < 0.8 else "answered")
        elif age < 21:
            status = ("received" if roll < 0.03 else "escalated" if roll < 0.05 else
                      "handling" if roll < 0.5 else "answered" if roll < 0.75 else "closed")
        else:
            status = ("handling" if roll < 0.01 else "escalated" if roll < 0.012 else
                      "answered" if roll < 0.09 else "closed")
        mode = None
        if status == "escalated":
            mode = "escalated"
        elif status != "received":
            m = rng.random()
            mode = "instant" if m < 0.2 else "routed" if m < 0.86 else "joint"
            if status == "handling" and mode == "instant":
                mode = "routed"
        if mode == "instant":
            due = deadlines.same_day(received)
        elif mode == "routed":
            due = deadlines.routed(received)
        elif mode == "joint":
            due = deadlines.joint(deadlines.local_date(received) + timedelta(days=2))
        elif mode == "escalated":
            due = None
        else:
            due = deadlines.same_day(received)
        answered_at = None
        if status in ("answered", "closed"):
            answered_at = min(received + timedelta(hours=rng.uniform(0.1, 80)), NOW)
        answered_on = answered_at.astimezone(TZ).date() if answered_at else None
        late = bool(due and due.day and answered_on and answered_on > due.day)
        overdue_now = bool(due and due.day and status == "handling"
                           and deadlines.is_overdue(due.day, NOW))
        if status == "closed":
            ledger = "settled"
        elif late or (overdue_now and age > 7):
            ledger = "hanging"  # older overdue cases were swept long ago
        else:
            ledger = "open"  # recent overdue ones are left for the measured sweep
        tables.add("cases", [
            i, number, rng.choices(channels, weights)[0], category, sub, None,
            rng.choice(TEXTS_BY_AREA.get(category) or TEXTS), _b(False), mode, status,
            _iso(received), _iso(received.astimezone(TZ).date()),
            _iso(due.day if due else None), _b(bool(due and due.provisional)),
            due.reason if due else "待领导小组确定处置方案和时限", _iso(answered_at),
            _iso(answered_on), ledger, 0, "bench", _iso(received), _iso(answered_at or received),
        ])
        tables.add("case_events", [i, _iso(received), "operator", "bench", "filed", "{}",
                                   f'{{"number": "{number}"}}', ""])
        if mode is None:
            continue
        tables.add("case_events", [i, _iso(received), "operator", "bench", mode, "{}",
                                   f'{{"mode": "{mode}"}}', ""])
        if mode in ("routed", "joint") or (mode == "escalated" and rng.random() < 0.5):
            units = rng.sample(pool, 2) if mode == "joint" else [rng.choice(pool)]
            for index, unit in enumerate(dict.fromkeys(units)):
                state = ("replied" if answered_at else
                         "pending" if rng.random() < 0.4 else "accepted")
                assignment = tables.add("assignments", [
                    tables.counts["assignments"] + 1, i, unit, "lead" if index == 0 else "co",
                    state, 0, _iso(received), _iso(due.day if due else None),
                    _b(bool(due and due.provisional)), due.reason if due else "研判上报",
                    _b(overdue_now and age > 7), _iso(answered_at), _b(False), _b(False),
                ])
                if answered_at:
                    tables.add("replies", [i, assignment, unit, "已答复企业", "bench",
                                           _iso(answered_at)])
        elif mode == "instant" and answered_at:
            tables.add("replies", [i, None, None, "即时答复", "bench", _iso(answered_at)])
        if answered_at:
            tables.add("case_events", [i, _iso(answered_at), "department", "bench", "answered",
                                       '{"status": "handling"}', '{"status": "answered"}', ""])
        if status == "closed":
            rated = answered_at + timedelta(days=1)  # type: ignore[operator]
            tables.add("ratings", [i, rng.choice([3, 4, 4, 5, 5, 5]), "", "callback",
                                   _iso(rated), "回访", 0])
            tables.add("case_events", [i, _iso(rated), "system", "回访", "rated",
                                       '{"status": "answered"}', '{"status": "closed"}', ""])
    for day, last in sequence.items():
        tables.add("case_number_counters", [day.isoformat(), last])
    tables.close()
    return tables.counts


def copy_in(engine: Engine, directory: Path) -> None:
    """COPY every spool file into its table, parents first."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns in COLUMNS.items():
            force = NOT_NULL_TEXT.get(table)
            options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(force)})" if force else "")
            started = time.perf_counter()
            with (directory / f"{table}.csv").open("rb") as source, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH ({options})"
            ) as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
            print(f"  COPY {table:<22} {time.perf_counter() - started:6.1f} s")
        for table in ("cases", "assignments"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
        raw.commit()
        raw.driver_connection.autocommit = True  # VACUUM refuses to run in a transaction
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE             {time.perf_counter() - started:6.1f} s")
    finally:
        raw.close()


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples: list[float]

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def row(self, baseline: float | None, goal: bool = True) -> str:
        p50, p95 = self.pct(50), self.pct(95)
        ratio = f"{p95 / baseline:7.1f}×" if baseline else "        "
        verdict = "" if baseline is None or not goal else (
            "  ok" if p95 < GOAL_MS else "  SLOW")
        return f"  {self.name:<44} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms {ratio}{verdict}"


def measure(name: str, session: Session, samples: int, call: Callable[[int], object]) -> Timing:
    """Time ``call(i)`` ``samples`` times, each from a clean session state, after a warm-up."""
    times = []
    for i in range(-min(20, samples), samples):
        session.expunge_all()
        started = time.perf_counter()
        call(i)
        elapsed = (time.perf_counter() - started) * 1000
        session.rollback()
        if i >= 0:
            times.append(elapsed)
    return Timing(name, times)


def explain(session: Session, title: str, statement: Any, analyze: bool = True) -> None:
    """Print the plan PostgreSQL chooses for ``statement`` with its real parameters."""
    compiled = statement.compile(dialect=session.get_bind().dialect,
                                 compile_kwargs={"render_postcompile": True})
    mode = "ANALYZE, BUFFERS, " if analyze else ""
    rows = session.connection().exec_driver_sql(
        f"EXPLAIN ({mode}COSTS OFF) {compiled.string}", compiled.params).all()
    session.rollback()
    print(f"\n-- {title}")
    for (line,) in rows:
        print(f"   {line}")


def concurrent_filing(engine: Engine, writers: int, filings: int = FILINGS_PER_WRITER
                      ) -> tuple[Timing, float, list[str]]:
    """``writers`` threads filing at once; per-filing latency, wall time, numbers handed out."""
    calendar = WorkCalendar()
    actor = Actor("api", "bench")
    latencies: list[float] = []
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(writers)

    def writer() -> None:
        barrier.wait()
        try:
            for _ in range(filings):
                started = time.perf_counter()
                # The case domain alone: no listeners, no texts (no app around it).
                with Session(engine, info=CaseServices(TZ).session_info()) as session:
                    number = file_case(session, channel="web_platform", description=TEXTS[2],
                                       actor=actor, now=NOW, calendar=calendar, tz=TZ).number
                    session.commit()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    numbers.append(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    label = f"{writers} concurrent writers" if writers > 1 else "1 writer"
    return Timing(f"file_case, {label}", latencies), wall, numbers


def run(url: str, n: int, samples: int, filings: int = FILINGS_PER_WRITER) -> None:
    from migrations.runner import upgrade

    engine = create_engine(make_engine_url(url), pool_size=WRITERS + 2)
    upgrade(url)
    with Session(engine) as session:
        seed_departments(session)
        session.commit()
        departments = session.execute(select(Department.id, Department.task_force)).all()
    ids = [d for d, _ in departments]
    task_force = [d for d, tf in departments if tf]

    print(f"\ngenerating {n:,} cases …")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_cases_") as tmp:
        counts = generate(n, Path(tmp), ids, task_force)
        print(f"  generated in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{t} {c:,}" for t, c in counts.items()))
        copy_in(engine, Path(tmp))
    print(f"  loaded in {time.perf_counter() - started:.1f} s")

    rng = random.Random(1)
    with Session(engine) as session:
        numbers = list(session.scalars(select(Case.number).order_by(func.random()).limit(2000)))
        queue_size = session.scalar(select(func.count()).where(Case.status == "received"))
        busy = list(session.scalars(text(
            "SELECT department_id FROM assignments WHERE state IN ('pending', 'accepted') "
            "GROUP BY department_id ORDER BY count(*) DESC LIMIT 5")))
        today = NOW.astimezone(TZ).date()
        everything = QueueFilters()
        deep_cursor = None  # where page 6 starts
        for _ in range(5):
            deep_cursor = operator_queue(session, everything, today=today,
                                         cursor=deep_cursor).next_cursor
        session.rollback()
        categories = list(CATEGORIES)

        print(f"\nmeasuring ({samples} samples each; operator queue holds {queue_size:,} cases)")
        baseline = measure("SELECT 1 (baseline round trip)", session, samples,
                           lambda i: session.execute(text("SELECT 1")).scalar())
        timings = [
            measure("operator queue (most urgent first), page 1", session, samples,
                    lambda i: operator_queue(session, everything, today=today)),
            measure("operator queue by category, page 1", session, samples,
                    lambda i: operator_queue(session, QueueFilters(
                        category=categories[i % 4]), today=today)),
            measure("operator queue, page 6 (keyset)", session, samples,
                    lambda i: operator_queue(session, everything, today=today,
                                             cursor=deep_cursor)),
            measure("operator queue, overdue only", session, samples,
                    lambda i: operator_queue(session, QueueFilters(overdue=True),
                                             today=today)),
            measure("department open assignments, busiest units", session, samples,
                    lambda i: department_assignments(session, busy[i % len(busy)])),
            measure("case lookup by number (+assignments, replies)", session, samples,
                    lambda i: case_by_number(session, rng.choice(numbers))),
        ]
        base = baseline.pct(95)
        print(baseline.row(None))
        for timing in timings:
            print(timing.row(base))

        print("\noverdue sweep")
        for attempt in ("first run", "second run (idempotent)"):
            started = time.perf_counter()
            hung = sweep_overdue(session, NOW, TZ)
            session.commit()
            print(f"  {attempt:<24} {time.perf_counter() - started:7.2f} s, "
                  f"{hung:,} cases newly hanging")

        # Writers queue on the day's counter row; one writer shows the cost without waiting.
        print("\nfiling (goal: no duplicate numbers)")
        filed: list[str] = []
        for writers in (1, WRITERS):
            filing, wall, numbers_filed = concurrent_filing(engine, writers, filings)
            filed += numbers_filed
            print(f"{filing.row(base, goal=False)}  {len(numbers_filed) / wall:5.0f} filings/s")
        duplicates = len(filed) - len(set(filed))
        print(f"  {len(filed)} filings, duplicate numbers: {duplicates}")
        total = session.scalar(select(func.count(func.distinct(Case.number))))
        print(f"  distinct numbers in the table: {total:,} of {n + len(filed):,} cases")

        print("\nquery plans (EXPLAIN ANALYZE, BUFFERS)")
        # Each page is the dated rows' range scan, then (on the last page) the undated.
        explain(session, "operator queue", operator_queue_query(
            session, everything, today=today)[0])
        explain(session, "operator queue, page 6", operator_queue_query(
            session, everything, today=today, cursor=deep_cursor)[0])
        explain(session, "operator queue by category", operator_queue_query(
            session, QueueFilters(category="policy"), today=today)[0])
        explain(session, "operator queue, undated rows", operator_queue_query(
            session, everything, today=today)[1])
        explain(session, "department open assignments", department_assignments_query(
            busy[0])[0])
        explain(session, "case lookup by number", case_lookup_query(numbers[0]))
        mark, hang = overdue_updates(today + timedelta(days=30), NOW)
        explain(session, "sweep: flag overdue assignments (rolled back)", mark)
        explain(session, "sweep: hang overdue cases (rolled back)", hang)
    engine.dispose()
    if duplicates:
        raise SystemExit("duplicate case numbers!")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--database-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database to connect to for CREATE DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--smoke", action="store_true",
                        help="a few thousand cases, a few samples: does it still run?")
    args = parser.parse_args()
    filings = FILINGS_PER_WRITER
    if args.smoke:
        args.cases, args.samples, filings = 2_000, 3, 2
    if not args.database_url.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL")
    print(f"cases benchmark: {args.cases:,} cases, now = {NOW.astimezone(TZ):%Y-%m-%d %H:%M} "
          "Asia/Shanghai")
    with private_database(args.database_url, args.keep, args.smoke) as url:
        run(url, args.cases, args.samples, filings)


if __name__ == "__main__":
    main()
