"""The periodic job that keeps the case search index current."""

from __future__ import annotations

import logging
import time

from casesearch.index import refresh
from core.db import db, retry_when_locked
from core.jobs import get_app
from knowledge import segmentation

log = logging.getLogger(__name__)
# A run stops taking new batches after this long (a rebuild goes on at the next run).
RUN_SECONDS = 45.0


@retry_when_locked
def refresh_index_job() -> int:
    """Periodic: segment the cases written since the last run, batch by batch.

    A batch reads its pending rows, then deletes them: on SQLite it takes the write lock
    first (``db.write_transaction``), or a case saved meanwhile would fail it ("database is
    locked"); the dictionary is loaded before (seconds, once a process), so the lock is held
    only for the segmenting itself. Idempotent: a lock conflict runs the job again."""
    app = get_app()
    started = time.monotonic()
    total = 0
    segmentation.tokenizer()
    with app.app_context():
        while time.monotonic() - started < RUN_SECONDS:
            with db.write_transaction() as session:
                done = refresh(session)
            total += done
            if not done:
                break
    if total:
        log.info("case search: %d case(s) segmented", total)
    return total
