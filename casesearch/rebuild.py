"""Case search follows the shipped dictionaries: every case segmented again in the background.

The periodic job ``case-search-index`` begins each run with :func:`start_if_stale`: when the
fingerprint the index was built with (:mod:`knowledge.index_state`) is not the running code's
— or none is recorded and the index has rows — it marks every case pending
(:func:`casesearch.index.enqueue_all`) and remembers the last pending row it added. The job
then works through the pending rows as it always does, a batch of 500 at a time (searches keep
working meanwhile, from the old words; ``flask case-search status`` shows how many are left),
and ends each run with :func:`finish_if_done`, which records the new fingerprint only when
none of the rows the rebuild added is left. Each batch commits its words and deletes its rows
together, so a rebuild cut short (a crash, a deploy) goes on where it stopped and its
fingerprint is recorded only at its end.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from casesearch.index import INDEX_VERSION, enqueue_all
from casesearch.models import PendingCase
from knowledge import index_state
from knowledge.models import SearchIndexState


def current_fingerprint() -> str:
    return index_state.fingerprint(index_state.CASES, INDEX_VERSION)


def _has_rows(session: Session) -> bool:
    return session.execute(text("SELECT 1 FROM case_search LIMIT 1")).first() is not None


def start(session: Session, state: SearchIndexState) -> int:
    """Mark every case pending for a rebuild with the current fingerprint; how many."""
    queued = enqueue_all(session)
    state.building = current_fingerprint()
    state.building_upto = session.scalar(select(func.max(PendingCase.id)))
    return queued


def start_if_stale(session: Session, now: datetime) -> int | None:
    """Start a rebuild if the index's fingerprint is not the running code's: the cases
    queued, or None (current, or a rebuild towards it already under way)."""
    current = current_fingerprint()
    seen = index_state.read_state(session, index_state.CASES)
    if seen is not None and seen.fingerprint == current and seen.building is None:
        return None  # the usual run: one read, nothing written
    state = index_state.locked_state(session, index_state.CASES)
    if state.fingerprint == current:
        if state.building is not None:  # a newer release's rebuild, then rolled back
            state.building = state.building_upto = None
        return None
    if state.building == current:
        return None
    if state.fingerprint is None and not _has_rows(session):
        # Nothing stored yet: every case still pending is segmented by this code.
        index_state.record(state, current, now)
        return None
    return start(session, state)


def remaining(session: Session, state: SearchIndexState | None) -> int | None:
    """Cases the rebuild under way still has to segment (None: no rebuild)."""
    if state is None or state.building is None:
        return None
    if state.building_upto is None:
        return 0
    return session.scalar(select(func.count(func.distinct(PendingCase.case_id)))
                          .where(PendingCase.id <= state.building_upto)) or 0


def finish_if_done(session: Session, now: datetime) -> bool:
    """Record the fingerprint of a rebuild none of whose cases is left; whether it did."""
    seen = index_state.read_state(session, index_state.CASES)
    if seen is None or seen.building is None:
        return False
    state = index_state.locked_state(session, index_state.CASES)
    if state.building is None or state.building != current_fingerprint():
        return False
    if state.building_upto is not None and session.scalar(
            select(PendingCase.id).where(PendingCase.id <= state.building_upto).limit(1)
    ) is not None:
        return False
    index_state.record(state, state.building, now)
    return True
