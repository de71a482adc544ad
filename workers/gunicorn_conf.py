"""Gunicorn settings for the web app (``make run``; the benchmark serves both apps with it)."""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from core.settings import SETTINGS

workers = 2
# WEB_PUBLIC_SLOTS (4) of 8 may serve pages and APIs at once; the rest are kept for Twilio's
# webhooks (core.bulkhead). Live console streams (screen pop, 实时监控) hold a thread each for
# as long as they are open, outside the bulkhead: they get LIVE_STREAMS_PER_PROCESS threads
# more, and no more streams than that (console.live_stream).
REQUEST_THREADS = 8
threads = REQUEST_THREADS + int(SETTINGS["LIVE_STREAMS_PER_PROCESS"].parse(
    os.environ.get("LIVE_STREAMS_PER_PROCESS")))
worker_class = "gthread"


def post_worker_init(worker: Any) -> None:
    """Move everything loaded at start-up out of the garbage collector's sight.

    The app's start-up objects (flows, SQLAlchemy mappers, twilio, the calendar) never die;
    without this, every full collection walks them all in the middle of a webhook request.
    """
    gc.collect()
    gc.freeze()


def when_ready(server: Any) -> None:
    """Once per start of the web server, before the workers fork: warnings for the admin.

    Only for the hotline's app (the benchmark serves its bare endpoint with these settings
    too); a failing check is logged, never stops the server.
    """
    if not str(getattr(server.app, "app_uri", "") or "").startswith("app:"):
        return
    try:
        from app import create_app, warn_about_calendar
        from core.db import db

        warn_about_calendar(create_app())
        # The workers inherit the engine: hand them an empty pool, not the master's.
        db.dispose()
    except Exception:
        logging.getLogger("hotline").exception("start-up checks failed")
