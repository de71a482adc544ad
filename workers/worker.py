"""Worker entry point: create the app and preload heavy things, then fork work horses.

Loading the Vosk model in the parent before ``work()`` lets every forked work horse
share it copy-on-write instead of loading it per job (DESIGN §4).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from rq import Queue, Worker
from rq.job import Job

from workers import context
from workers.dispatch import TRANSCRIBE_JOB
from workers.queues import ALL_QUEUES, connect
from workers.transcription_jobs import ensure_speech_model, preload_speech_model

log = logging.getLogger(__name__)

# Hooks run in the worker parent before it starts forking (e.g. load the speech model).
PRELOADERS: list[Callable[[object], None]] = [preload_speech_model]


class HotlineWorker(Worker):
    """RQ's forking worker, keeping the speech model loaded in the parent.

    Every job runs in a work horse forked from this process, so a model loaded here is
    shared copy-on-write. A model installed while the worker runs is loaded here before
    the next transcription job forks, instead of once per job in each horse.
    """

    def execute_job(self, job: Job, queue: Queue) -> None:
        if job.func_name == TRANSCRIBE_JOB:
            try:
                ensure_speech_model(context.get_app())
            except Exception:  # never lose the job over the optimisation
                log.exception("could not load the speech model before forking")
        super().execute_job(job, queue)


def build_worker(app: object, queues: list[str], name: str | None = None) -> HotlineWorker:
    connection = connect(app.config["REDIS_URL"])  # type: ignore[attr-defined]
    return HotlineWorker(queues, connection=connection, name=name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="8718 hotline RQ worker")
    # A node may serve a subset: `transcription` on big machines, `default,calls` elsewhere.
    parser.add_argument("--queues", default=",".join(ALL_QUEUES),
                        help=f"comma-separated, from {', '.join(ALL_QUEUES)}")
    parser.add_argument("--with-scheduler", action="store_true")
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)
    queues = [name.strip() for name in args.queues.split(",") if name.strip()]
    unknown = sorted(set(queues) - set(ALL_QUEUES))
    if unknown or not queues:
        parser.error(f"unknown queue(s) {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(ALL_QUEUES)}")

    from app import create_app

    app = create_app()
    if not app.config.get("REDIS_URL"):
        parser.error("REDIS_URL is not set")
    context.set_app(app)
    for preload in PRELOADERS:
        preload(app)
    worker = build_worker(app, queues, args.name)
    worker.work(with_scheduler=args.with_scheduler, burst=args.burst)


if __name__ == "__main__":
    main()
