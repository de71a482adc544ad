"""Job: write menu steps queued in Redis to the call log."""

from __future__ import annotations

from core.db import db
from ivr.eventlog import drain
from workers.context import get_app
from workers.queues import connect


def drain_call_log() -> int:
    """Idempotent: a second concurrent drain finds the lock taken and returns."""
    app = get_app()
    return drain(connect(app.config["REDIS_URL"]), db.transaction)
