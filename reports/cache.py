"""A small time-limited cache of computed figures, one per app (the 统计 page's figures).

A month's figures over a million cases take a few dozen aggregate queries; supervisors
reloading the page or following links within a minute get the same figures again. Entries
expire after ``REPORTS_CACHE_SECONDS`` (0 turns the cache off).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from core.settings import setting

T = TypeVar("T")
MAX_ENTRIES = 256


class TtlCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, or ``compute()`` stored for the next callers."""
        if self.seconds <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
        if found is not None and now - found[0] < self.seconds:
            return found[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {k: v for k, v in self._entries.items()
                                 if now - v[0] < self.seconds}
            self._entries[key] = (time.monotonic(), value)
        return value


def app_cache(app: Any) -> TtlCache:
    """The app's cache (created with the app, so tests and apps never share figures)."""
    cache = app.extensions.get("reports_cache")
    if cache is None:
        cache = TtlCache(float(setting(app.config, "REPORTS_CACHE_SECONDS")))
        app.extensions["reports_cache"] = cache
    return cache
