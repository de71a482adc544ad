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

from transcription.model_setup import auto_install_source, availability, download_answered
from transcription.pipeline import model_path


def start_model_install(flask: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``flask model ensure`` in the background: the hotline answers while the speech model
    downloads (or says at once why it cannot); it exits when done and is not restarted."""
    return subprocess.Popen([*flask, "model", "ensure"], env=env, start_new_session=True)


def model_line(settings: Mapping[str, Any], installer: subprocess.Popen[bytes],
               wait: float = 15.0) -> str:
    """The banner's speech-model line, once the server has answered the installer (or the
    installer has finished): a refused connection shows as 不可用 with its reason, not as
    下载中 0%. A server that never answers is waited for at most ``wait`` seconds."""
    target = model_path(settings)
    if auto_install_source(settings, target)[0] is None:
        wait = 0.0  # nothing to download: the state is what it is
    deadline = time.monotonic() + wait
    while (installer.poll() is None
           and not download_answered(target, installer.pid)
           and availability(settings, target).state != "installed"
           and time.monotonic() < deadline):
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
