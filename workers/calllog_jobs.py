"""Job: write webhook requests queued in Redis to the call log, then act on what they say."""

from __future__ import annotations

import logging

from cases.voicemail import file_pending_voicemails
from core.clock import system_clock
from core.config import hotline_zone
from core.db import db
from ivr.eventlog import drain
from ivr.models import Recording
from workers.context import get_app
from workers.dispatch import recording_dispatcher
from workers.queues import connect

log = logging.getLogger(__name__)
FILING_BATCH = 100


def drain_call_log() -> int:
    """Drain the call log, enqueue transcriptions, file the voicemails reserved meanwhile.

    Idempotent: a second concurrent drain finds the lock taken and returns; filing skips
    voicemails already filed. Returns how many call-log entries were written.
    """
    app = get_app()
    dispatch = recording_dispatcher(app.config)

    def transcribe(recordings: list[Recording]) -> None:
        for recording in recordings:
            dispatch(recording)

    with app.app_context():
        written = drain(connect(app.config["REDIS_URL"]), db.transaction, transcribe)
        # After the drain: the call and recording rows of the reservations now exist.
        clock = app.config.get("CLOCK") or system_clock
        zone = hotline_zone(app.config)
        filed = 0
        while True:  # in batches, each committed on its own
            with db.transaction() as session:
                batch = file_pending_voicemails(session, now=clock(), tz=zone,
                                                limit=FILING_BATCH)
            filed += batch
            if batch < FILING_BATCH:  # done, or only failures left (retried next run)
                break
    if filed:
        log.info("filed %d voicemail case(s) reserved in webhook requests", filed)
    return written
