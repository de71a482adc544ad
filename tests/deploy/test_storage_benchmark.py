"""``benchmarks/storage.py --smoke`` still runs (a benchmark nobody runs rots unseen)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_storage_benchmark_smoke() -> None:
    done = subprocess.run([sys.executable, str(PROJECT / "benchmarks" / "storage.py"), "--smoke"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "ratio to the plain baseline" in done.stdout
    assert "first byte of a Range request" in done.stdout
