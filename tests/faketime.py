"""The machine's wall clock set for a whole process tree, with libfaketime.

For tests of real processes (``make run``'s stack) that must not depend on the hour they run
at: the product has no clock switch; the test sets the machine's clock for what it starts.
``.ci/at`` does the same for the whole suite in CI.

The clock is an offset from the real one (libfaketime's ``FAKETIME="+N"``), so every process
agrees on the time, whenever it started (a start-at ``@…`` timestamp restarts in each new
process), and time runs on. The monotonic clock stays real: see
``tests/faketime_site/sitecustomize.py``.
"""

from __future__ import annotations

import glob
import os
import subprocess
from datetime import datetime
from pathlib import Path

SITE = Path(__file__).resolve().parent / "faketime_site"


def library() -> str | None:
    """libfaketime's path (Debian's ``libfaketime`` package), or None."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    return found[0] if found else None


def real_time() -> int:
    """Seconds since the epoch by the real clock, even when this process's clock is faked."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return int(subprocess.run(["date", "+%s"], env=env, capture_output=True, text=True,
                              check=True).stdout)


def environment(at: datetime, env: dict[str, str]) -> dict[str, str]:
    """``env`` for processes whose clock starts at ``at`` (aware) and runs on from there."""
    lib = library()
    if lib is None:
        raise RuntimeError("libfaketime is not installed (apt-get install faketime)")
    offset = int(at.timestamp()) - real_time()
    others = [p for p in env.get("LD_PRELOAD", "").split() if "faketime" not in p]
    paths = [str(SITE), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    return {**{k: v for k, v in env.items() if not k.startswith("FAKETIME")},
            "LD_PRELOAD": " ".join([lib, *others]), "FAKETIME": f"{offset:+d}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1", "PYTHONPATH": os.pathsep.join(paths)}


def real_clock_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) without libfaketime, for a program that cannot run
    under it: Chromium never finishes loading a page there. The app under test keeps the
    clock the test gives it; a browser never shared it."""
    source = dict(os.environ if env is None else env)
    preload = " ".join(p for p in source.pop("LD_PRELOAD", "").split() if "faketime" not in p)
    if preload:
        source["LD_PRELOAD"] = preload
    return {k: v for k, v in source.items() if not k.startswith("FAKETIME")}
