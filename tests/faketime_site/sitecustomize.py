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
"""

from __future__ import annotations

import os
import threading
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    _never_released = threading.Lock()
    _never_released.acquire()

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        _never_released.acquire(timeout=seconds)

    time.sleep = _sleep
