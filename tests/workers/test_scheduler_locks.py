"""A worker restarted after a crash schedules retries at once (the dead one's lock is freed)."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import timedelta

from rq import Queue
from rq.job import Job

from core.db import utcnow
from workers.worker import HotlineWorker, release_stale_scheduler_locks


def hold_lock(redis_conn, queue: str, owner: str, pid: int) -> None:
    redis_conn.set(f"rq:scheduler-lock:{queue}", owner, ex=60)
    redis_conn.hset(f"rq:scheduler:{owner}",
                    mapping={"hostname": socket.gethostname(), "pid": str(pid)})


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_only_locks_of_dead_schedulers_are_released(redis_conn):
    hold_lock(redis_conn, "default", "dead", dead_pid())
    hold_lock(redis_conn, "calls", "alive", os.getpid())
    assert release_stale_scheduler_locks(redis_conn, ["default", "calls"]) == ["default"]
    assert redis_conn.get("rq:scheduler-lock:default") is None
    assert redis_conn.get("rq:scheduler-lock:calls") == b"alive"


def test_a_restarted_worker_runs_a_due_retry_at_once(redis_conn):
    hold_lock(redis_conn, "default", "crashed-worker", dead_pid())
    job = Queue("default", connection=redis_conn).enqueue_at(
        utcnow() - timedelta(seconds=5), "core.queues.job_id", "retry", 1)
    worker = HotlineWorker(["default"], connection=redis_conn)
    release_stale_scheduler_locks(redis_conn, ["default"])
    worker.work(burst=True, with_scheduler=True)
    assert Job.fetch(job.id, connection=redis_conn).get_status() == "finished"
