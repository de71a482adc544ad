"""Worker entry point: create the app and preload heavy things, then fork work horses.

Loading the Vosk model in the parent before ``work()`` lets every forked work horse
share it copy-on-write instead of loading it per job (docs/decisions.md §4).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from collections.abc import Callable
from typing import cast

from flask import Flask
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock

from core import jobs
from core.queues import ALL_QUEUES, TRANSCRIPTION, connect
from transcription.dispatch import TRANSCRIBE_JOB
from transcription.worker_model import ensure_speech_model, preload_speech_model

log = logging.getLogger(__name__)
MAINTENANCE_SECONDS = 60

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
                ensure_speech_model(jobs.get_app())
            except Exception:  # never lose the job over the optimisation
                log.exception("could not load the speech model before forking")
        super().execute_job(job, queue)


def build_worker(app: Flask, queues: list[str], name: str | None = None) -> HotlineWorker:
    connection = connect(app.config["REDIS_URL"])
    # Maintenance also retries taking scheduler locks: every minute, not RQ's ten.
    return HotlineWorker(queues, connection=connection, name=name,
                         maintenance_interval=MAINTENANCE_SECONDS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_stale_scheduler_locks(connection: Redis, queues: list[str]) -> list[str]:
    """Free the scheduler locks of our queues held by a dead process on this host.

    A worker killed with SIGKILL leaves its scheduler's lock for a minute, and RQ tries
    again only at its next maintenance: a restarted worker would leave scheduled retries
    (downloads, follow-up calls) unscheduled meanwhile. Returns the queues freed.
    """
    freed = []
    host = socket.gethostname()
    for name in queues:
        key = RQScheduler.get_locking_key(name)
        holder = connection.get(key)
        if holder is None:
            continue
        owner = holder.decode() if isinstance(holder, bytes) else str(holder)
        info = cast(dict[bytes, bytes], connection.hgetall(SCHEDULER_KEY_TEMPLATE % owner))
        pid = int(info.get(b"pid", b"0") or 0)
        same_host = info.get(b"hostname", b"").decode() == host
        if (not info or (same_host and pid and not _alive(pid))) \
                and release_lock(connection, key, owner):
            freed.append(name)
    if freed:
        log.warning("released scheduler locks of a dead worker: %s", ", ".join(freed))
    return freed


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
    jobs.set_app(app)
    if TRANSCRIPTION in queues:  # a worker for light queues only needs no speech model
        for preload in PRELOADERS:
            preload(app)
    worker = build_worker(app, queues, args.name)
    if args.with_scheduler:
        release_stale_scheduler_locks(worker.connection, queues)
    worker.work(with_scheduler=args.with_scheduler, burst=args.burst)


if __name__ == "__main__":
    main()
