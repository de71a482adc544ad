"""Gunicorn settings for the web app (``make run``; the benchmark serves both apps with it)."""

from __future__ import annotations

import gc
from typing import Any

workers = 2
threads = 4
worker_class = "gthread"


def post_worker_init(worker: Any) -> None:
    """Move everything loaded at start-up out of the garbage collector's sight.

    The app's start-up objects (flows, SQLAlchemy mappers, twilio, the calendar) never die;
    without this, every full collection walks them all in the middle of a webhook request.
    """
    gc.collect()
    gc.freeze()
