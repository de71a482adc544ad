"""Case jobs: thin wrappers that open a transaction and call the case domain."""

from __future__ import annotations

import logging

from cases.ledger import sweep_overdue
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db, retry_when_locked
from core.jobs import get_app

log = logging.getLogger(__name__)


@retry_when_locked
def sweep_overdue_job() -> int:
    """Periodic: mark overdue cases hanging (挂账); idempotent, so overlapping runs are harmless."""
    app = get_app()
    clock = clock_of(app.config)
    with app.app_context(), db.transaction() as session:
        count = sweep_overdue(session, clock(), hotline_zone(app.config))
    if count:
        log.info("overdue sweep: %d case(s) newly hanging", count)
    return count
