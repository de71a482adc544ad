"""The periodic job that keeps the case search index current."""

from __future__ import annotations

import logging
import time

from casesearch.index import refresh
from core.db import db
from core.jobs import get_app

log = logging.getLogger(__name__)
# A run stops taking new batches after this long (a rebuild goes on at the next run).
RUN_SECONDS = 45.0


def refresh_index_job() -> int:
    """Periodic: segment the cases written since the last run, batch by batch."""
    app = get_app()
    started = time.monotonic()
    total = 0
    with app.app_context():
        while time.monotonic() - started < RUN_SECONDS:
            with db.transaction() as session:
                done = refresh(session)
            total += done
            if not done:
                break
    if total:
        log.info("case search: %d case(s) segmented", total)
    return total
