"""The knowledge base's index follows the shipped dictionaries: rebuilt in the background.

The periodic job ``kb-search-index`` compares the fingerprint the index was built with
(:mod:`knowledge.index_state`) with the running code's; when they differ — or none is recorded
and the index has rows — it segments every article again (:func:`knowledge.search.reindex_all`,
a few hundred articles at most) and records the new fingerprint **in the same transaction**:
a run that fails half-way keeps nothing, neither tokens nor fingerprint, and the next run does
it again. Never in a web request and never when a process starts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.clock import clock_of
from core.db import db, retry_when_locked
from core.jobs import get_app
from knowledge import index_state, segmentation
from knowledge.search import INDEX_VERSION, load_titles, reindex_all

log = logging.getLogger(__name__)


def current_fingerprint() -> str:
    return index_state.fingerprint(index_state.KB, INDEX_VERSION)


def _has_rows(session: Session) -> bool:
    return session.execute(text("SELECT 1 FROM kb_search LIMIT 1")).first() is not None


def is_stale(session: Session) -> bool:
    """Whether the index's fingerprint is not the running code's (or none is recorded): a
    read; :func:`reindex_if_stale` checks again under the lock."""
    state = index_state.read_state(session, index_state.KB)
    return not index_state.is_current(state, current_fingerprint())


def reindex(session: Session, now: datetime) -> int:
    """Segment every article again and record the fingerprint (one transaction)."""
    state = index_state.locked_state(session, index_state.KB)
    load_titles(session)
    count = reindex_all(session)
    index_state.record(state, current_fingerprint(), now)
    return count


def reindex_if_stale(session: Session, now: datetime) -> int | None:
    """Rebuild when the stored fingerprint is not the running code's; the articles
    segmented, or None when the index was current (an empty index just records it)."""
    current = current_fingerprint()
    state = index_state.locked_state(session, index_state.KB)
    if state.fingerprint == current:
        return None
    if state.fingerprint is None and not _has_rows(session):
        index_state.record(state, current, now)
        return None
    return reindex(session, now)


@retry_when_locked
def kb_index_job() -> int | None:
    """Periodic: rebuild the knowledge base's index after a change of the dictionaries.

    The check is one read; only a rebuild loads the dictionary (before taking SQLite's write
    lock, as the case search job does) and writes. Idempotent."""
    app = get_app()
    with app.app_context():
        with db.transaction() as session:
            stale = is_stale(session)
        if not stale:
            return None
        segmentation.tokenizer()
        with db.write_transaction() as session:
            count = reindex_if_stale(session, clock_of(app.config)())
    if count is not None:
        log.info("knowledge base: %d article(s) segmented with the current dictionaries",
                 count)
    return count
