"""The app a worker process runs jobs in, created once in the parent before forking."""

from __future__ import annotations

import os
from typing import Any

from core.db import db

_app: Any = None


def set_app(app: Any) -> None:
    global _app
    _app = app


def get_app() -> Any:
    """The worker's app; created on first use (e.g. a SimpleWorker in tests)."""
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


def _reset_connections_in_child() -> None:
    # A forked work horse must not reuse the parent's pooled sockets.
    db.dispose(close=False)
    db.session.remove()


os.register_at_fork(after_in_child=_reset_connections_in_child)
