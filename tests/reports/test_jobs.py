"""The monthly bulletin draft: on the first working day, once, whatever the schedulers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from cases.notifications import Notification
from core import jobs as context
from core.db import db
from reports.jobs import draft_monthly_bulletin_job, first_working_day
from reports.models import Bulletin
from tests.workers.periodic_support import race_two_schedulers
from workdays.calendar import WorkCalendar

JOB = draft_monthly_bulletin_job


@pytest.fixture
def jobs(app: Any) -> Iterator[Any]:
    context.set_app(app)
    yield app
    context.set_app(None)
    db.session.remove()


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_first_working_day_skips_holidays_and_weekends() -> None:
    calendar = WorkCalendar()
    assert first_working_day(calendar, 2026, 10) == date(2026, 10, 8)  # after 国庆
    assert first_working_day(calendar, 2026, 12) == date(2026, 12, 1)


def test_nothing_before_the_first_working_day(jobs: Any, clock: Any) -> None:
    clock.set_local("2026-10-07 09:00")  # still the National Day holiday
    assert draft_monthly_bulletin_job() is False
    clock.set_local("2026-10-08 09:00")
    assert draft_monthly_bulletin_job() is True
    assert db.session.scalars(select(Bulletin.month)).all() == ["2026-09"]


def test_two_schedulers_create_one_draft_and_one_notice(
        jobs: Any, clock: Any, redis_conn: Any, redis_url: str) -> None:
    jobs.config["REDIS_URL"] = redis_url
    clock.set_local("2026-12-01 08:10")
    results = race_two_schedulers(redis_conn, JOB)
    assert sorted(results) == [False, True]
    assert count(Bulletin) == 1 and count(Notification) == 1
    bulletin = db.session.scalars(select(Bulletin)).one()
    assert (bulletin.month, bulletin.issue_number, bulletin.status) == ("2026-11", 1, "draft")
    # Later in the month the hourly job finds the draft there and does nothing.
    clock.set_local("2026-12-02 09:00")
    assert draft_monthly_bulletin_job() is False
    assert count(Notification) == 1


@pytest.mark.postgresql_only
def test_the_unique_month_alone_keeps_concurrent_drafts_to_one(jobs: Any) -> None:
    """Without the Redis lock (expired, Redis down) the database still decides."""
    from reports import bulletin, periods
    from tests.cases.factories import local

    results: list[bool] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        with db.transaction() as session:
            created = bulletin.create_draft(session, periods.month(2026, 11), by="测试",
                                            now=local("2026-12-01 08:00"))
            results.append(created is not None)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert count(Bulletin) == 1 and count(Notification) == 1
