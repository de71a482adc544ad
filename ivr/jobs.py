"""The IVR's job: write webhook requests queued in Redis to the call log, then act on them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo

from cases.voicemail import file_pending_voicemails, file_unreserved_voicemails
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db, is_lock_conflict, retry_when_locked
from core.jobs import get_app
from core.queues import connect
from ivr.eventlog import drain
from ivr.models import Recording

log = logging.getLogger(__name__)
FILING_BATCH = 100


@retry_when_locked
def drain_call_log() -> int:
    """Drain the call log, enqueue transcriptions, file the voicemails reserved meanwhile.

    Idempotent: a second concurrent drain finds the lock taken and returns; filing skips
    voicemails already filed, so a lock conflict runs the whole job again. Filing runs even
    when the drain fails (a caller was told the number): filing creates the call and
    recording rows it needs itself. The drain's error is raised afterwards, so the job
    still shows as failed. Returns how many call-log entries were written.
    """
    app = get_app()
    # The hand-off of completed recordings the app was built with (transcription).
    dispatch = app.extensions["ivr_runtime"].on_recording_completed

    def transcribe(recordings: list[Recording]) -> None:
        for recording in recordings:
            dispatch(recording)

    failure: Exception | None = None
    written = 0
    with app.app_context():
        try:
            written = drain(connect(app.config["REDIS_URL"]), db.write_transaction, transcribe)
        except Exception as exc:
            if is_lock_conflict(exc):  # the job runs again (retry_when_locked)
                log.warning("call-log drain: %s; filing the reserved voicemails anyway",
                            str(exc).splitlines()[0])
            else:
                log.exception("call-log drain failed: filing the reserved voicemails anyway")
            failure = exc
        # After the drain: the call and recording rows of the reservations now exist.
        clock = clock_of(app.config)
        zone = hotline_zone(app.config)
        filed = _in_batches(file_pending_voicemails, clock, zone)
        # Messages nobody reserved a number for (Twilio's fallback URL): filed as they are.
        unreserved = _in_batches(file_unreserved_voicemails, clock, zone)
    if filed or unreserved:
        log.info("filed %d reserved and %d unreserved voicemail case(s)", filed, unreserved)
    if failure is not None:
        raise failure
    return written


def _in_batches(file: Callable[..., int], clock: Callable[[], datetime], zone: tzinfo) -> int:
    """Run a filing function in batches, each committed on its own; returns the total.

    Filing reads (what is unfiled) before it writes: each batch takes SQLite's write lock
    first (``db.write_transaction``), so a concurrent console save cannot fail it."""
    total = 0
    while True:
        with db.write_transaction() as session:
            batch = file(session, now=clock(), tz=zone, limit=FILING_BATCH)
        total += batch
        if batch < FILING_BATCH:  # done, or only failures left (retried next run)
            return total


