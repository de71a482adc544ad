"""The periodic job that keeps the case search index current."""

from __future__ import annotations

import logging
import time

from casesearch import rebuild
from casesearch.index import refresh
from core.clock import clock_of
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
    only for the segmenting itself. Idempotent: a lock conflict runs the job again.

    A run begins by starting a rebuild if the index was built with other dictionaries, and
    ends by recording the new fingerprint once that rebuild is through (casesearch.rebuild).
    """
    app = get_app()
    clock = clock_of(app.config)
    started = time.monotonic()
    total = 0
    segmentation.tokenizer()
    with app.app_context():
        with db.write_transaction() as session:
            queued = rebuild.start_if_stale(session, clock())
        if queued is not None:
            log.info("case search: dictionaries changed, %d case(s) queued to segment again",
                     queued)
        while time.monotonic() - started < RUN_SECONDS:
            with db.write_transaction() as session:
                done = refresh(session)
                # Nothing left: a rebuild under way is complete. Checked in the same
                # transaction (SQLite reuses the ids of deleted rows: a case written after it
                # could take a rebuild's old id and hold the record back a run).
                finished = not done and rebuild.finish_if_done(session, clock())
            total += done
            if finished:
                log.info("case search: rebuilt with the current dictionaries")
            if not done:
                break
    if total:
        log.info("case search: %d case(s) segmented", total)
    return total
