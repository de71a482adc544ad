"""What background jobs share: the app they run in, and hand-offs once a transaction commits.

The worker (``workers.worker``), the cron process and the CLI commands that run jobs
in-process set the app with :func:`set_app` before the first job runs; a forked work horse
inherits it. :func:`after_commit` is how domain code hands a row it just wrote to a job:
the callback runs only if the transaction commits (a rollback drops it), so a job never
looks for a row that does not exist.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.db import db

log = logging.getLogger(__name__)
_app: Any = None
_PENDING = "after_commit"


def set_app(app: Any) -> None:
    global _app
    _app = app


def get_app() -> Any:
    """The app jobs of this process run in (set by the process's entry point)."""
    if _app is None:
        raise RuntimeError("no app for jobs in this process: its entry point calls "
                           "core.jobs.set_app(create_app()) first")
    return _app


def after_commit(session: Session, key: object, callback: Callable[[], object]) -> None:
    """Run ``callback()`` once the session's current transaction commits.

    Callbacks are keyed (the same ``key`` twice in one transaction runs once, the latest
    callback winning) and run in the order they were first added; a rollback discards them.
    A callback that raises is logged, never raised into the code that committed.
    """
    pending: dict[object, Callable[[], object]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = {}
        if not event.contains(session, "after_commit", _run):
            event.listen(session, "after_commit", _run)
            event.listen(session, "after_rollback", _drop)
    pending[key] = callback


def _run(session: Session) -> None:
    for callback in (session.info.pop(_PENDING, None) or {}).values():
        try:
            callback()
        except Exception:
            log.exception("after-commit hand-off failed (the periodic catch-up will redo it)")


def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _reset_connections_in_child() -> None:
    # A forked work horse must not reuse the parent's pooled sockets.
    db.dispose(close=False)
    db.session.remove()


os.register_at_fork(after_in_child=_reset_connections_in_child)
