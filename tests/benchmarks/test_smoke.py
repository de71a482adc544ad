"""Every benchmark still runs: each ``benchmarks/*.py`` in its ``--smoke`` mode.

Benchmarks are not tests (their figures are read by people), but one that no longer runs
should fail CI, not be found broken months later. Each script must accept ``--smoke``
(tiny sizes, a few seconds, no goals asserted) and exit 0. New scripts are picked up
automatically; helpers (``_*.py``) and ``bare_app.py`` are not benchmarks.
PostgreSQL only: the benchmarks create their own database on ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
# How many run at once (default: all); see benchmarks/README.md.
SMOKE_PARALLEL = int(os.environ.get("SMOKE_PARALLEL", "0")) or None
# The smoke runs that start the most processes (servers, workers, a seeding subprocess).
LONGEST = {"transcription.py", "webhooks.py", "call_queue.py", "reports.py", "live_speech.py"}
NOT_BENCHMARKS = {"bare_app.py"}


def benchmark_scripts() -> list[Path]:
    return sorted(p for p in BENCHMARKS_DIR.glob("*.py")
                  if not p.name.startswith("_") and p.name not in NOT_BENCHMARKS)


def test_the_benchmarks_are_found():
    names = {p.name for p in benchmark_scripts()}
    assert {"webhooks.py", "transcription.py", "cases.py", "call_queue.py"} <= names
    assert "bare_app.py" not in names and "_loadgen.py" not in names


def stale_sockets() -> set[Path]:
    """SeaweedFS's gRPC socket files in /tmp (it ignores TMPDIR) that nobody listens on."""
    stale = set()
    for path in Path("/tmp").glob("seaweedfs-*.sock"):
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
            except OSError:
                stale.add(path)
    return stale


def jieba_cache(folder: Path) -> Path:
    """jieba's dictionary cache, built once here: in its own empty temporary folder each
    benchmark that segments Chinese text would build it again (a second or two of CPU)."""
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(folder)
    tokenizer.initialize()
    return folder / "jieba.cache"


def run_smoke(script: Path, env: dict[str, str], scratch: Path, log: Path) -> str | None:
    """``script --smoke`` in ``scratch`` (its TMPDIR); what went wrong, or None."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(script), "--smoke"], env={**env, "TMPDIR": str(scratch)},
            cwd=BENCHMARKS_DIR.parent, stdout=output, stderr=subprocess.STDOUT)
    try:
        code = process.wait(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    if code == 0:
        return None
    text = log.read_text(errors="replace")
    return f"== {script.name} --smoke exited with {code}:\n{text[-3000:]}"


@pytest.mark.postgresql_only
def test_every_benchmark_runs_in_smoke_mode():
    # All at once unless SMOKE_PARALLEL says otherwise: each also waits on its servers and
    # on PostgreSQL, and the suite should stay short.
    # Each gets a temporary folder of its own that must be empty again when it ends (a
    # short path: the benchmarks' servers put Unix sockets there, limited to 107 bytes).
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    stale_before = stale_sockets()
    with tempfile.TemporaryDirectory() as logs, \
            tempfile.TemporaryDirectory(prefix="bench-", dir="/tmp") as scratch_root:
        tmp_path = Path(scratch_root)
        cache = jieba_cache(Path(logs))
        jobs = []
        # The longest first, so that none starts last and runs alone.
        for script in sorted(benchmark_scripts(), key=lambda p: p.name not in LONGEST):
            scratch = tmp_path / script.stem
            scratch.mkdir()
            shutil.copyfile(cache, scratch / cache.name)
            jobs.append((script, env, scratch, Path(logs) / f"{script.stem}.log"))
        with ThreadPoolExecutor(SMOKE_PARALLEL or len(jobs)) as pool:
            failures = [f for f in pool.map(lambda job: run_smoke(*job), jobs) if f]
        # jieba keeps its dictionary cache in the temporary folder on purpose: every
        # process on the machine reuses it (it is the library's, not the benchmark's; this
        # test puts one in each folder to begin with).
        left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("*/*")
                      if p.name != "jieba.cache")
    assert not failures, "\n".join(failures)
    assert not left, f"benchmarks left files behind: {left}"
    assert stale_sockets() <= stale_before


def test_no_benchmark_shadows_a_standard_library_module():
    # Run as a script, a benchmark has benchmarks/ first on sys.path: a script named like a
    # standard module (queue.py, profile.py …) would be imported in its place by any library.
    shadowing = {p.name for p in BENCHMARKS_DIR.glob("*.py")
                 if p.stem in sys.stdlib_module_names}
    assert not shadowing
