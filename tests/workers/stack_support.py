"""``make run``'s tests: its environment, and an instance directory as its set-up leaves it.

Every test of ``make run`` (``test_stack*.py``) used to migrate and seed a fresh instance:
a third of each boot (loading the app, thirty-odd migrations, five Argon2 hashes for the
demo accounts, the knowledge base's segmentation). None of them is about that step; CI's
smoke (``.ci/smoke``) runs ``make run`` on a fresh instance. So the step runs once per
session (the ``seeded_instance`` fixture, conftest), with the product's own code
(``workers.stack._seed``: ``flask seed --upgrade --demo``), and each test copies the result
into its own instance directory; ``make run`` still runs its set-up there (an upgrade with
nothing to do, seeders finding their rows).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.files import private_umask
from tests import faketime
from workers import stack

PROJECT = Path(__file__).resolve().parents[2]
# Monday 2026-12-07, a working day, at 03:00 China time: outside office hours, so a caller
# who asks for a person is told so and leaves a voicemail (test_stack.py).
NIGHT = datetime(2026, 12, 7, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


FIRST_START_JOBS = """
from app import create_app
from core import jobs
from knowledge.reindex import kb_index_job

jobs.set_app(create_app())
kb_index_job()
"""


def stack_environment(instance: Path) -> dict[str, str]:
    """This process's environment for a ``make run`` on ``instance``: the embedded default."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "PORT"}}
    # Stopping gives the children 2 s, not 10: at the moment a test stops, a worker is often
    # still in one of the periodic jobs of the first start (seconds each on a loaded machine),
    # which make run lets finish; that its group is killed after the grace is make run's too.
    env.update(HOTLINE_INSTANCE_PATH=str(instance), MAKE_RUN_STOP_SECONDS="2")
    return env


def seed_instance(instance: Path) -> Path:
    """Migrate and seed ``instance`` as ``make run``'s set-up does (demo data included), and
    index the knowledge base as its first start does."""
    env = stack_environment(instance)
    if faketime.library() is not None:  # the rows dated as test_stack.py's stack runs
        env = faketime.environment(NIGHT, env)
    previous = os.getcwd()
    os.chdir(PROJECT)  # `flask --app app`, as make run starts it
    try:
        with private_umask():  # make run's own (core.files.restrict_new_files)
            stack._seed([str(stack.BIN / "flask"), "--app", "app"], env)
            # What the first start's knowledge-base job does (seconds: the 40 starter
            # articles segmented anew), done once: each stack's run finds the index current.
            subprocess.run([sys.executable, "-c", FIRST_START_JOBS], cwd=PROJECT, env=env,
                           check=True, capture_output=True, timeout=300)
    finally:
        os.chdir(previous)
    assert (instance / "hotline.db").exists()
    return instance


def copy_instance(template: Path, instance: Path) -> Path:
    """``template`` (a seeded instance, never used in place) as ``instance``, modes kept."""
    shutil.copytree(template, instance, symlinks=True)
    return instance
