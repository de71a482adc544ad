"""Imported by every Python process that runs under libfaketime with this folder on PYTHONPATH
(``.ci/at``, ``tests/faketime.py``); elsewhere it does nothing.

libfaketime 0.9.10 (Debian 12) cannot fake the wall clock for Python as it is:
- with the monotonic clock faked, a lock or event wait with a timeout never returns (Python
  waits with ``sem_clockwait``, which libfaketime does not intercept, until a deadline on the
  faked clock that the real one reaches decades later);
- with ``FAKETIME_DONT_FAKE_MONOTONIC=1``, ``time.sleep`` fails with ``OSError: [Errno 22]``
  (libfaketime shifts the absolute monotonic deadline of ``clock_nanosleep``).
So the monotonic clock stays real and ``time.sleep`` waits on a lock that is never released:
the same real monotonic clock, through the wait that works.

A server libfaketime cannot reach keeps the real time: the S3 server of the tests (SeaweedFS, a
Go program, reads the clock without libc) refuses requests signed more than 15 minutes off
its clock. So botocore signs with the real time, the fake one less the offset (``FAKETIME``
is ``+N``/``-N`` seconds under ``.ci/at`` and ``tests/faketime.py``).
"""

from __future__ import annotations

import datetime
import importlib.abc
import importlib.machinery
import os
import re
import sys
import threading
import time
from typing import Any

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    _never_released = threading.Lock()
    _never_released.acquire()

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        _never_released.acquire(timeout=seconds)

    time.sleep = _sleep

    _offset = re.fullmatch(r"[+-]\d+", os.environ.get("FAKETIME", "").strip())

    if _offset is not None:
        _shift = datetime.timedelta(seconds=int(_offset.group()))

        def _real_utc(remove_tzinfo: bool = True) -> datetime.datetime:
            now = datetime.datetime.now(datetime.UTC) - _shift
            return now.replace(tzinfo=None) if remove_tzinfo else now

        class _SignOnTheRealClock(importlib.abc.MetaPathFinder):
            """Once ``botocore.auth`` is loaded, its signatures take the real time."""

            def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
                if name != "botocore.auth":
                    return None
                spec = importlib.machinery.PathFinder.find_spec(name, path)
                if spec is None or spec.loader is None:
                    return spec
                loader: Any = spec.loader
                load = loader.exec_module

                def exec_module(module: Any) -> None:
                    load(module)
                    module.get_current_datetime = _real_utc

                loader.exec_module = exec_module
                return spec

        sys.meta_path.insert(0, _SignOnTheRealClock())
