"""Two schedulers and a duplicate run: the race every once-only periodic job must survive."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rq import Queue

from core.db import db
from core.queues import DEFAULT
from workers.periodic import PERIODIC, build_scheduler


def race_two_schedulers(redis_conn: Any, func: Callable[[], object]) -> list[Any]:
    """Let two schedulers enqueue one tick of ``func``, add a duplicate copy (an expired
    tick claim, a manual run), perform both at once; returns the two results."""
    periodic = next(p for p in PERIODIC if p.func is func)
    func_name = f"{func.__module__}.{func.__qualname__}"
    for scheduler in (build_scheduler(redis_conn, (periodic,)) for _ in range(2)):
        scheduler.enqueue_jobs()
    queue = Queue(DEFAULT, connection=redis_conn)
    scheduled = [job for job in queue.get_jobs() if job.func_name == func_name]
    assert len(scheduled) == 1  # the schedulers claim each tick once between them
    jobs = [*scheduled, queue.enqueue(func)]
    results: list[Any] = []
    barrier = threading.Barrier(len(jobs))

    def work(job: Any) -> None:
        barrier.wait()
        results.append(job.perform())
        db.session.remove()

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
