"""Worker entry point: create the app and preload heavy things, then fork work horses.

Loading the Vosk model in the parent before ``work()`` lets every forked work horse
share it copy-on-write instead of loading it per job (DESIGN §4).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from rq import Worker

from workers import context
from workers.queues import ALL_QUEUES, connect

log = logging.getLogger(__name__)

# Hooks run in the worker parent before it starts forking (e.g. load the speech model).
PRELOADERS: list[Callable[[object], None]] = []


def build_worker(app: object, queues: list[str], name: str | None = None) -> Worker:
    connection = connect(app.config["REDIS_URL"])  # type: ignore[attr-defined]
    return Worker(queues, connection=connection, name=name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="8718 hotline RQ worker")
    parser.add_argument("--queues", default=",".join(ALL_QUEUES))
    parser.add_argument("--with-scheduler", action="store_true")
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)

    from app import create_app

    app = create_app()
    if not app.config.get("REDIS_URL"):
        parser.error("REDIS_URL is not set")
    context.set_app(app)
    for preload in PRELOADERS:
        preload(app)
    worker = build_worker(app, args.queues.split(","), args.name)
    worker.work(with_scheduler=args.with_scheduler, burst=args.burst)


if __name__ == "__main__":
    main()
