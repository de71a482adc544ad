"""Cron processes on several nodes: each periodic tick is enqueued exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rq import Queue

from cases.jobs import sweep_overdue_job
from workers.periodic import Periodic, build_scheduler

TICK = (Periodic(name="tick", func=sweep_overdue_job, interval=60,
                 queue="default"),)


def test_two_nodes_schedulers_enqueue_each_tick_once(redis_conn: Any) -> None:
    node_a, node_b = build_scheduler(redis_conn, TICK), build_scheduler(redis_conn, TICK)
    queue = Queue("default", connection=redis_conn)

    assert len(node_a.enqueue_jobs()) == 1
    assert node_b.enqueue_jobs() == []  # the same tick, claimed by node A
    assert queue.count == 1

    # Both schedulers move on; in the next slot whichever comes first enqueues it, once.
    for scheduler in (node_a, node_b):
        job = scheduler.get_jobs()[0]
        job.next_enqueue_time = job.next_enqueue_time - timedelta(seconds=61)
        job.latest_enqueue_time = job.latest_enqueue_time - timedelta(seconds=61)
    redis_conn.delete(*redis_conn.keys("hotline:cron:tick:*"))  # as if the slot expired
    assert len(node_b.enqueue_jobs()) == 1
    assert node_a.enqueue_jobs() == []
    assert queue.count == 2


def test_a_lone_scheduler_still_enqueues_every_tick(redis_conn: Any) -> None:
    only = build_scheduler(redis_conn, TICK)
    assert len(only.enqueue_jobs()) == 1
    assert only.enqueue_jobs() == []  # not due yet
    job = only.get_jobs()[0]
    job.next_enqueue_time -= timedelta(seconds=60)
    redis_conn.delete(*redis_conn.keys("hotline:cron:tick:*"))
    assert len(only.enqueue_jobs()) == 1
