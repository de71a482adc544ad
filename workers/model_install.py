"""``make run``'s speech-model installer: a one-shot background process beside the hotline.

``flask model ensure`` (``transcription.model_setup``) does the work; this starts it, reads
its state for the banner and stops it with ``make run`` (a partial download is resumed by
the next start).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from typing import Any

# Not transcription.pipeline: the supervisor would load the whole case domain with it.
from transcription.engine import model_path
from transcription.model_setup import (
    auto_install_source,
    availability,
    download_answered,
    download_started,
)


def start_model_install(flask: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``flask model ensure`` in the background: the hotline answers while the speech model
    downloads (or says at once why it cannot); it exits when done and is not restarted."""
    return subprocess.Popen([*flask, "model", "ensure"], env=env, start_new_session=True)


def model_line(settings: Mapping[str, Any], installer: subprocess.Popen[bytes],
               wait: float = 15.0, start_wait: float = 60.0,
               others: tuple[int, ...] = ()) -> str:
    """The banner's speech-model line, once the server has answered the installer (or the
    installer has finished): a refused connection shows as 不可用 with its reason, not as
    下载中 0%. A server that never answers is waited for at most ``wait`` seconds from the
    request; the installer's own start (it loads the app, as the web server and the workers
    do at the same moment: seconds on a busy machine) at most ``start_wait``. ``others``: pids
    of processes that may install it instead (a worker without a model does, and the
    installer then waits for it)."""
    target = model_path(settings)
    if auto_install_source(settings, target)[0] is None:
        wait = start_wait = 0.0  # nothing to download: the state is what it is
    pids = (installer.pid, *others)
    deadline = time.monotonic() + start_wait
    asked = False
    while (installer.poll() is None
           and not download_answered(target, *pids)
           and availability(settings, target).state != "installed"
           and time.monotonic() < deadline):
        if not asked and download_started(target, *pids):
            asked = True
            deadline = time.monotonic() + wait
        time.sleep(0.1)
    return availability(settings, target).text


def stop_model_install(installer: subprocess.Popen[bytes] | None) -> None:
    """An unfinished download stops with make run; the next make run resumes it."""
    if installer is None or installer.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(installer.pid, signal.SIGTERM)
    try:
        installer.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(installer.pid, signal.SIGKILL)
        installer.wait()
