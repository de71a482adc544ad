"""Reports at scale: KPIs, the 统计 page, the ledger export, the bulletin, hot topics.

Builds the data set of ``benchmarks/cases.py`` (a private PostgreSQL database, N cases over
three years ending 2026-11-24, loaded with COPY), backfills ``first_missed_due`` as the
migration does, then measures against baselines taken in the same run:

- a month's KPIs (the centre's figures and every unit's), against one
  ``SELECT count(*)`` over the same month's cases;
- the console 统计 page over HTTP (p50/p95): a custom period computed on the request
  (supervisor — goal p95 < 200 ms — and the busiest unit's liaison), and as deployed, served
  from the figures the periodic job computes ahead (goal p95 < 200 ms); the job's own time;
  one chart;
- the ledger export of ~100,000 cases (time and peak RSS, in a child process), against
  openpyxl write-only writing the same rows from memory (goal ≤ 1.5×, peak RSS < 300 MB);
- the bulletin for one month (goal < 10 s) and hot topics for one month.

    .venv/bin/python benchmarks/reports.py                 # 1,000,000 cases (minutes)
    .venv/bin/python benchmarks/reports.py --smoke         # tiny sizes, a few seconds
    .venv/bin/python benchmarks/reports.py --reuse DB --only ledger  # the export alone

Long on purpose: one standalone script: the measurements share one 1,000,000-case database
that takes minutes to load, so they run in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from core.db import make_engine_url  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_cases", ROOT / "benchmarks" / "cases.py")
assert _spec and _spec.loader
bench_cases = importlib.util.module_from_spec(_spec)
sys.modules["bench_cases"] = bench_cases
_spec.loader.exec_module(bench_cases)

NOW, TZ = bench_cases.NOW, bench_cases.TZ
MONTH = (date(2026, 10, 1), date(2026, 10, 31))  # the last complete month of the data
CUSTOM = (date(2026, 10, 8), date(2026, 11, 7))  # a custom period: 31 days across two months
PAGE_GOAL_MS = 200.0
EXPORT_ROWS = 100_000
EXPORT_ROUNDS = 3
BACKFILL = (
    "UPDATE cases SET first_missed_due = due_date WHERE due_date IS NOT NULL "
    "AND (mode IS NULL OR mode <> 'instant') AND ((answered_on IS NOT NULL "
    "AND answered_on > due_date) OR (status = 'handling' AND due_date < :today))",
    "UPDATE assignments SET first_missed_due = due_date WHERE due_date IS NOT NULL "
    "AND (overdue = true OR (state IN ('pending', 'accepted') AND due_date < :today))",
    # The generator's answers are the first ones (no rework in the generated data).
    "UPDATE cases SET first_answered_at = answered_at, first_answered_on = answered_on "
    "WHERE answered_at IS NOT NULL",
    # The generator leaves hanging_since empty; the console's hanging list needs it.
    "UPDATE cases SET hanging_since = updated_at WHERE ledger_state = 'hanging' "
    "AND hanging_since IS NULL",
)


def load(url: str, n: int) -> None:
    from cases.case_models import Case  # noqa: F401  (models registered)
    from cases.seed import seed_departments
    from migrations.runner import upgrade

    upgrade(url)
    engine = create_engine(make_engine_url(url))
    with Session(engine) as session:
        seed_departments(session)
        session.commit()
        departments = session.execute(text("SELECT id, task_force FROM departments")).all()
    ids = [d for d, _ in departments]
    task_force = [d for d, tf in departments if tf]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        counts = bench_cases.generate(n, Path(tmp), ids, task_force)
        print("  generated: " + ", ".join(f"{t} {c:,}" for t, c in counts.items()))
        bench_cases.copy_in(engine, Path(tmp))
    today = NOW.astimezone(TZ).date()
    with engine.begin() as conn:
        for statement in BACKFILL:
            conn.execute(text(statement), {"today": today})
    # The backfill rewrote nearly every case (and many assignments): vacuum as autovacuum
    # soon would in service, so the visibility map lets index-only scans skip the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("cases", "assignments", "ratings"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    print(f"  loaded and backfilled in {time.perf_counter() - started:.1f} s")
    engine.dispose()


def make_app(url: str, tmp: str, cache_seconds: int = 60) -> Any:
    """The app on the benchmark database; its instance folder is ``tmp`` (the caller's
    temporary directory, removed at the end of the run)."""
    from app import create_app

    return create_app({"TESTING": True, "REPORTS_CACHE_SECONDS": cache_seconds,
                       "DATABASE_URL": url, "REDIS_URL": None,
                       "SECRET_KEY": "bench", "INSTANCE_PATH": tmp, "RECORDINGS_DIR": tmp,
                       "CLOCK": lambda: NOW,
                       "TWILIO_AUTH_TOKEN": "bench-token", "PUBLIC_BASE_URL": "http://bench"})


def timed(call: Any, samples: int, warmup: int | None = None) -> list[float]:
    """``samples`` timings of ``call`` after ``warmup`` untimed calls (default: one, none for
    a single sample, as --smoke takes)."""
    if warmup is None:
        warmup = 1 if samples > 1 else 0
    times = []
    for i in range(-warmup, samples):
        started = time.perf_counter()
        call()
        if i >= 0:
            times.append((time.perf_counter() - started) * 1000)
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float], baseline: float | None = None, goal: str = "") -> None:
    ratio = f"  {pct(values, 95) / baseline:6.1f}× baseline" if baseline else ""
    print(f"  {name:<58} p50 {pct(values, 50):8.1f} ms  p95 {pct(values, 95):8.1f} ms"
          f"{ratio}{('  ' + goal) if goal else ''}")


def serve(app: Any) -> tuple[str, Any]:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def signed_in(app: Any, base: str, role: str = "supervisor") -> Any:
    """A browser session of a supervisor, or of the busiest unit's liaison."""
    import requests

    from console.models import User
    from console.passwords import hash_password
    from core.db import db

    username = f"bench-{role}"
    with app.app_context():
        if not db.session.scalar(select(User.id).where(User.username == username)):
            department = None if role == "supervisor" else db.session.execute(text(
                "SELECT department_id FROM assignments GROUP BY department_id "
                "ORDER BY count(*) DESC LIMIT 1")).scalar()
            db.session.add(User(username=username, display_name="基准", role=role,
                                department_id=department,
                                password_hash=hash_password("Bench-pass-1"), active=True))
            db.session.commit()
    client = requests.Session()
    page = client.get(f"{base}/console/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token, "no CSRF token"
    response = client.post(f"{base}/console/login", data={
        "username": username, "password": "Bench-pass-1", "csrf_token": token.group(1)})
    assert "/console/login" not in response.url, "login failed"
    return client


def child(mode: str, url: str, start: str, end: str, out: str) -> None:
    """Run in a child process so its peak RSS is its own; prints JSON."""
    with tempfile.TemporaryDirectory(prefix="bench_reports_child_") as tmp:
        _child(mode, url, start, end, out, tmp)


def _child(mode: str, url: str, start: str, end: str, out: str, tmp: str) -> None:
    from reports import periods
    from reports.context import app_calendar, scope_for
    from reports.filters import LedgerFilters
    from reports.ledger_export import COLUMNS, ledger_rows
    from reports.service import export_ledger

    app = make_app(url, tmp)
    with app.app_context():
        from core.db import db

        scope = scope_for(app, periods.custom(date.fromisoformat(start), date.fromisoformat(end)))
        before_mb = _rss_mb()
        if mode == "export":
            started = time.perf_counter()
            rows = export_ledger(db.session, scope, app_calendar(app), LedgerFilters(), out)
            elapsed = time.perf_counter() - started
        else:
            from openpyxl import Workbook

            # The same rows (序号 first), written by plain openpyxl: values appended as
            # they are, no styles, no text cells, no print layout.
            data = [(i, *row) for i, row in enumerate(
                ledger_rows(db.session, scope, LedgerFilters()), start=1)]  # not timed
            rows = len(data)
            started = time.perf_counter()
            book = Workbook(write_only=True)
            sheet = book.create_sheet("台账")
            sheet.append([title for title, *_rest in COLUMNS])
            for row in data:
                sheet.append(row)
            book.save(out)
            elapsed = time.perf_counter() - started
    peak_mb = _status_mb("VmHWM:")
    print(json.dumps({"rows": rows, "seconds": elapsed, "peak_mb": peak_mb,
                      "growth_mb": peak_mb - before_mb}))


def _status_mb(field: str) -> float:
    for status in Path("/proc/self/status").read_text().splitlines():
        if status.startswith(field):
            return int(status.split()[1]) / 1024
    return 0.0


def _rss_mb() -> float:
    """The resident set now (the app loaded); resets the peak so it covers the work only."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS:")


def run_child(mode: str, url: str, start: date, end: date, in_process: bool = False
              ) -> dict[str, Any]:
    """``mode`` in a child process of its own (its peak RSS is the figure); ``in_process``
    (--smoke: no figure counts) runs the same code here, without loading the app twice more."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"{mode}.xlsx")
        if in_process:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                child(mode, url, start.isoformat(), end.isoformat(), out)
            stdout = printed.getvalue()
        else:
            stdout = subprocess.run(
                [sys.executable, __file__, "--child", mode, url, start.isoformat(),
                 end.isoformat(), out], capture_output=True, text=True, check=True,
                cwd=ROOT).stdout
        data: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
        data["size_mb"] = os.path.getsize(out) / 1e6
        return data


def export_period(session: Session, rows: int) -> tuple[date, date]:
    """The latest span of whole days holding about ``rows`` cases."""
    end = NOW.astimezone(TZ).date()
    start = session.scalar(text(
        "SELECT received_on FROM cases ORDER BY received_on DESC OFFSET :n LIMIT 1"),
        {"n": rows}) or date(2000, 1, 1)
    return start, end


def measure(url: str, samples: int, export_rows: int, rounds: int = EXPORT_ROUNDS,
            only: str | None = None, smoke: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_reports_app_") as tmp:
        _measure(url, samples, export_rows, rounds, tmp, only, smoke)


def _measure(url: str, samples: int, export_rows: int, rounds: int, tmp: str,
             only: str | None = None, smoke: bool = False) -> None:
    from reports import periods
    from reports.context import app_calendar, app_hotline, scope_for
    from reports.freshness import REFRESH_SECONDS
    from reports.hot_topics import hot_topics
    from reports.service import bulletin_document, kpis_json
    from reports.snapshots import refresh_standard

    app = make_app(url, tmp)
    month = periods.custom(*MONTH)
    least = min(3, samples)  # samples of the slower figures (--smoke: 1)
    if only == "ledger":
        with app.app_context():
            from core.db import db

            start, end = export_period(db.session, export_rows)
            db.session.rollback()
        ledger_export(url, start, end, rounds, smoke)
        return
    with app.app_context():
        from core.db import db

        session = db.session
        scope = scope_for(app, month)
        calendar = app_calendar(app)
        in_month = session.scalar(select(func.count()).select_from(text("cases")).where(
            text("received_on BETWEEN :a AND :b")).params(a=MONTH[0], b=MONTH[1]))
        print(f"\nmeasuring ({MONTH[0]} – {MONTH[1]}: {in_month:,} cases received)")
        baseline = timed(lambda: session.execute(
            text("SELECT count(*) FROM cases WHERE received_on BETWEEN :a AND :b"),
            {"a": MONTH[0], "b": MONTH[1]}).scalar(), samples)
        line("baseline: SELECT count(*) over the month", baseline)
        base = pct(baseline, 95)
        if only is None:
            kpis = timed(lambda: kpis_json(session, scope, calendar), max(samples // 4, least))
            line("month KPIs (centre + every unit)", kpis, base)
        session.rollback()

        # The page with its figures computed on the request (no snapshot, cache off), for a
        # supervisor and for a unit; then as deployed: the periodic job has computed the
        # standard periods (October is "last month" on the data's last day).
        session.execute(text("DELETE FROM report_snapshots"))
        session.commit()
        page_app = make_app(url, tmp, cache_seconds=0)
        base_url, server = serve(page_app)
        page_url = f"{base_url}/console/reports?from={MONTH[0]}&to={MONTH[1]}"

        def page_timings(client: Any, n: int) -> list[float]:
            def get_page() -> None:
                response = client.get(page_url)
                assert response.status_code == 200 and "按时办结率" in response.text
            return timed(get_page, n)

        supervisor, department = signed_in(page_app, base_url), signed_in(
            page_app, base_url, "department")
        # A custom period (any two dates): never computed ahead, always on the request.
        custom_url = f"{base_url}/console/reports?from={CUSTOM[0]}&to={CUSTOM[1]}"

        def custom_timings(client: Any, n: int) -> list[float]:
            def get_page() -> None:
                response = client.get(custom_url)
                assert response.status_code == 200 and "按时办结率" in response.text
            return timed(get_page, n)

        # Nothing counted ahead: the period computed whole on the request.
        fresh = custom_timings(supervisor, max(samples // 2, least))
        verdict = "PASS" if pct(fresh, 95) < PAGE_GOAL_MS else "MISS"
        line("统计 page, custom period, nothing ahead (supervisor)", fresh, base,
             f"goal p95 < 200 ms: {verdict}")
        line("统计 page, custom period, nothing ahead (busiest unit)",
             custom_timings(department, max(samples // 2, least)), base)
        with page_app.app_context():
            started = time.perf_counter()
            done = refresh_standard(db.session, scope_for(page_app, month), calendar,
                                    app_hotline(page_app), NOW)
            db.session.commit()
            ahead_s = time.perf_counter() - started
        job = "periodic job: 4 standard periods, then the figures by day"
        print(f"  {job:<58} {ahead_s:9.2f} s "
              f"({', '.join(f'{d.seconds:.1f}' for d in done)} s each period; every "
              f"{REFRESH_SECONDS // 60} min)")
        # As deployed: the custom period summed from the days the job counted (reports.daily).
        for who, client in (("supervisor", supervisor), ("busiest unit", department)):
            page = custom_timings(client, samples)
            verdict = "PASS" if pct(page, 95) < PAGE_GOAL_MS else "MISS"
            line(f"统计 page, custom period from the days ({who})", page, base,
                 f"goal p95 < 200 ms: {verdict}")
        if only == "custom":
            server.shutdown()
            print(f"  (--only custom; load average {os.getloadavg()[0]:.1f})")
            return
        for who, client in (("supervisor", supervisor), ("busiest unit", department)):
            page = page_timings(client, samples)
            verdict = "PASS" if pct(page, 95) < PAGE_GOAL_MS else "MISS"
            line(f"统计 page, figures computed ahead ({who})", page, base,
                 f"goal p95 < 200 ms: {verdict}")
        chart = timed(lambda: supervisor.get(
            f"{base_url}/console/reports/chart/trend.png?from={MONTH[0]}&to={MONTH[1]}"),
            1, warmup=0)
        line("trend chart (12 months, first request)", chart, base)
        server.shutdown()

        started = time.perf_counter()
        data = bulletin_document(session, scope, calendar)
        elapsed = time.perf_counter() - started
        print(f"  {'bulletin for one month':<46} {elapsed:9.2f} s ({len(data) / 1e3:.0f} kB)  "
              f"goal < 10 s: {'PASS' if elapsed < 10 else 'MISS'}")
        hot = timed(lambda: hot_topics(session, scope), 1, warmup=0)
        line("hot topics for one month (cold)", hot, base)
        hot = timed(lambda: hot_topics(session, scope), least, warmup=0)
        line("hot topics for one month (warm cache)", hot, base)
        start, end = export_period(session, export_rows)
        session.rollback()

    ledger_export(url, start, end, rounds, smoke)


def ledger_export(url: str, start: date, end: date, rounds: int, smoke: bool = False) -> None:
    """The ledger export against openpyxl writing the same rows, in alternating rounds."""
    print(f"\nledger export ({start} – {end}; {rounds} alternating rounds, median; "
          f"load average {os.getloadavg()[0]:.1f})")
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "export": []}
    for _round in range(rounds):
        for mode in ("baseline", "export"):
            runs[mode].append(run_child(mode, url, start, end, in_process=smoke))
    medians = {mode: sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
               for mode, results in runs.items()}
    ratio = medians["export"]["seconds"] / medians["baseline"]["seconds"]
    for name, mode in (("openpyxl write-only from memory (baseline)", "baseline"),
                       ("ledger export (streamed from the database)", "export")):
        result = medians[mode]
        rounds = ", ".join(f"{r['seconds']:.1f}" for r in runs[mode])
        print(f"  {name:<46} {result['rows']:,} rows {result['seconds']:7.2f} s ({rounds})  "
              f"peak RSS {max(r['peak_mb'] for r in runs[mode]):4.0f} MB "
              f"(+{max(r['growth_mb'] for r in runs[mode]):.0f} MB over the loaded app)  "
              f"{result['size_mb']:.1f} MB file")
    peak = max(r["peak_mb"] for r in runs["export"])
    print(f"  export / baseline: {ratio:.2f}× (goal ≤ 1.5×: {'PASS' if ratio <= 1.5 else 'MISS'})"
          f"; peak RSS goal < 300 MB: {'PASS' if peak < 300 else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a few seconds")
    parser.add_argument("--database-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="measure on a database kept by an earlier run (no loading)")
    parser.add_argument("--load-only", action="store_true",
                        help="load and keep the data set, measure nothing (then --reuse it "
                             "when the machine is quiet)")
    parser.add_argument("--only", choices=("custom", "ledger"),
                        help="measure only the 统计 page of a custom period, or only the "
                             "ledger export (each with its baseline)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if not args.database_url.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL")
    n, samples, export_rows = args.cases, args.samples, EXPORT_ROWS
    if args.smoke:
        n, samples, export_rows = 3000, 1, 1000
    print(f"reports benchmark: {n:,} cases, now = {NOW.astimezone(TZ):%Y-%m-%d %H:%M} "
          "Asia/Shanghai")
    # Everything the run creates — the apps' instance folders, the export files, jieba's
    # dictionary cache, the child processes' files — goes in one temporary directory,
    # removed at the end.
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as work:
        # jieba's cache is no file of the run's: one already there is used, not built again.
        shared = Path(tempfile.gettempdir()) / "jieba.cache"
        if shared.is_file():
            shutil.copyfile(shared, Path(work) / shared.name)
        tempfile.tempdir = work
        os.environ["TMPDIR"] = work
        run(args, n, samples, export_rows)


def run(args: argparse.Namespace, n: int, samples: int, export_rows: int) -> None:
    if args.reuse:
        from sqlalchemy.engine import make_url

        from migrations.runner import upgrade

        url = make_url(make_engine_url(args.database_url)).set(
            database=args.reuse).render_as_string(hide_password=False)
        upgrade(url)  # a database kept by an older run gets the newer tables
        measure(url, samples, export_rows, only=args.only)
        return
    with bench_cases.private_database(args.database_url, args.keep or args.load_only,
                                      args.smoke) as url:
        load(url, n)
        if args.load_only:
            print(f"  kept for --reuse: {url.rsplit('/', 1)[-1]}")
            return
        measure(url, samples, export_rows, 1 if args.smoke else EXPORT_ROUNDS, args.only,
                args.smoke)


if __name__ == "__main__":
    main()
