"""Jobs of the call queue: ringing operators' devices, ending wrap-ups, the periodic tick."""

from __future__ import annotations

from typing import Any

from callqueue import service
from callqueue.placement import run_placement
from callqueue.runtime import QueueRuntime
from core.db import db, retry_when_locked
from core.jobs import get_app


def _runtime(app: Any) -> QueueRuntime:
    return app.extensions["queue_runtime"]


def placement_job(what: str, items: list[Any]) -> None:
    """Ring the devices of offers (``place``) or stop operators' calls (``cancel``)."""
    app = get_app()
    with app.app_context():
        try:
            run_placement(_runtime(app), db.session, what, items)
        finally:
            db.session.remove()


@retry_when_locked
def end_wrapup_job(agent_id: int) -> None:
    """An operator's 话后整理 time is over (scheduled when it began)."""
    app = get_app()
    runtime = _runtime(app)
    with app.app_context():
        try:
            changes = service.end_wrapup(db.session, runtime, agent_id, now=runtime.now())
            runtime.commit(db.session, changes)
        finally:
            db.session.remove()


@retry_when_locked
def queue_tick_job() -> None:
    """Every few seconds: wrap-ups over, lost callbacks, dead placements, gone callers,
    closed consoles, and a dispatch pass (``callqueue.service.tick``)."""
    app = get_app()
    runtime = _runtime(app)
    with app.app_context():
        try:
            changes = service.tick(db.session, runtime, now=runtime.now())
            runtime.commit(db.session, changes)
        finally:
            db.session.remove()
