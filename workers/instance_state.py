"""Which ``make run`` owns an instance directory, and cleaning up after one that crashed.

The supervisor (``workers.stack``) records its own pid and each child's in
``instance/make-run.json`` whenever a child starts, and removes the file when it stops.
Children run in process groups of their own (their pid is the group's id), so a supervisor
killed outright (SIGKILL, a crash) leaves Redis, gunicorn, the workers and cron running
unsupervised. The next ``make run`` reads the file: if its supervisor is alive, the instance
is in use; if not, the children it recorded are stopped (SIGTERM to each group, SIGKILL after
``MAKE_RUN_STOP_SECONDS``, 10 s) before starting again. ``python -m workers.stack --clean``
does only that.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STATE_FILE = "make-run.json"


@dataclass
class InstanceState:
    supervisor: int
    children: dict[str, int] = field(default_factory=dict)


def state_path(instance: Path) -> Path:
    return Path(instance) / STATE_FILE


def write(instance: Path, state: InstanceState) -> None:
    path = state_path(instance)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"supervisor": state.supervisor,
                                     "children": state.children}))
    temporary.replace(path)


def read(instance: Path) -> InstanceState | None:
    try:
        data = json.loads(state_path(instance).read_text())
        return InstanceState(int(data["supervisor"]),
                             {str(k): int(v) for k, v in dict(data["children"]).items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove(instance: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        state_path(instance).unlink()


def _zombie(pid: int) -> bool:
    """Exited but not yet reaped by its parent (an orphan waits for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def alive(pid: int) -> bool:
    """A running process (a zombie has exited: it only waits to be reaped)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _leads_its_group(pid: int) -> bool:
    """A child we started leads a process group of its own (a recycled pid rarely does)."""
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def stale_children(state: InstanceState) -> dict[str, int]:
    """The recorded children still running, when their supervisor is gone."""
    if alive(state.supervisor):
        return {}
    return {name: pid for name, pid in state.children.items()
            if alive(pid) and _leads_its_group(pid)}


def stop_groups(children: dict[str, int], say: Callable[[str], None],
                grace: float) -> list[str]:
    """SIGTERM each child's group, SIGKILL what is left after ``grace`` seconds; the names
    still alive."""
    for name, pid in children.items():
        say(f"stopping {name} (pid {pid}) left by a `make run` that is gone")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p) for p in children.values()):
        time.sleep(0.1)
    for pid in children.values():
        if alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    time.sleep(0.2)
    return [name for name, pid in children.items() if alive(pid)]
