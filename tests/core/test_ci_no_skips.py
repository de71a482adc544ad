"""Under CI=true a skip fails the run, whether it happens while collecting or running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPING = {
    "test_collect_skip.py": "import pytest\n"
                            "pytest.importorskip('a_module_that_is_not_installed')\n"
                            "def test_never_runs():\n    pass\n",
    "test_run_skip.py": "import pytest\n"
                        "def test_skips():\n    pytest.skip('no tool')\n",
}


@pytest.mark.parametrize("name", sorted(SKIPPING))
@pytest.mark.parametrize("ci", ["true", ""])
def test_skips_fail_only_in_ci(tmp_path: Path, name: str, ci: str) -> None:
    (tmp_path / name).write_text(SKIPPING[name])
    # Only the plugin under test: loading every installed plugin (entry points) took most
    # of each run's start-up.
    env = {**os.environ, "CI": ci, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "tests.ci_no_skips", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    summary = run.stdout.strip().splitlines()[-1]
    if ci:
        assert run.returncode != 0 and "skipped" not in summary, run.stdout
        assert "which must run everything" in run.stdout, run.stdout
    else:
        # Collected nothing (exit 5) or ran nothing (exit 0): either way, a plain skip.
        assert run.returncode in (0, 5) and summary.startswith("1 skipped"), run.stdout
