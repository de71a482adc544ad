"""The load ``make run`` invites, on its embedded default: 60 operator and department form
posts (real sign-in, CSRF on) while calls leave voicemails through the terminal phone, the
call-log drain files them and transcription stores its results — all at once, on the test's
database file. Not one request or job may fail ("database is locked" or anything else).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from cases.actions.triage import do_route_to_department
from cases.case_models import Assignment, Case
from core import jobs as job_context
from core.db import db
from ivr.models import Recording
from ivr.phone import RecordingServer
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL, write_tone_wav
from tests.console.conftest import (
    CSRF_META,
    DEPT_A,
    DEPT_B,
    OPERATOR,
    PASSWORD,
    Accounts,
    csrf_token,
    department_id,
)
from tests.sqlite_races import StaleSnapshots
from transcription.chinese import TranscriptResult, Word
from transcription.models import Transcript

# The load the embedded default must hold (SQLite has one writer); PostgreSQL locks rows.
pytestmark = pytest.mark.sqlite_only

# Enough for every kind of writer to meet the others many times: the interleaving SQLite
# fails on is forced each time (tests/sqlite_races.py), so more posts only cost time.
OPERATOR_POSTS = 15  # per operator thread (two)
DEPARTMENT_CASES = 5  # per department thread (two): accept, progress, reply each
MIN_CALLS = 4


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str, redis_conn: Any,
               tmp_path: Path) -> dict[str, Any]:
    app_config.update(WTF_CSRF_ENABLED=True, REDIS_URL=redis_url,
                      VOSK_MODEL_PATH=str(tmp_path / "model"),
                      RECORDING_HOSTS=["127.0.0.1"], TWILIO_RECONCILE=False)
    return app_config


class _Engine:
    """The speech engine the test injects (decoding is not what is tested here)."""

    model_name = "test"

    def transcribe(self, audio: Any) -> TranscriptResult:
        return TranscriptResult(text="用电增容", words=[Word("用电增容", 0.0, 1.0, 0.9)],
                                confidence=0.9, duration=1.0, model_name="test", rtf=0.1,
                                is_empty=False)


@pytest.fixture
def speech_engine(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from transcription import engine
    from transcription.pipeline import model_path

    monkeypatch.setitem(engine._engines, model_path(app.config).resolve(), _Engine())


class _SharedRecordingServer:
    """The phone's recording server, kept open after the call until transcription fetched it
    (Twilio keeps recordings too), then closed: each open server polls, and a few dozen of
    them slow every other thread down. Injected by the test."""

    servers: ClassVar[list[Any]] = []

    def __new__(cls, path: Path) -> Any:
        server = RecordingServer(path)
        cls.servers.append(server)
        server.close = lambda: None  # type: ignore[method-assign]

        def close_once_fetched() -> None:
            server.served.wait()
            type(server).close(server)

        threading.Thread(target=close_once_fetched, daemon=True,
                         name="recording-server-closer").start()
        return server


@pytest.fixture
def recording_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import ivr.phone

    monkeypatch.setattr(ivr.phone, "RecordingServer", _SharedRecordingServer)
    yield
    for server in _SharedRecordingServer.servers:
        server.served.set()  # its closer closes it (or has)
        type(server).close(server)
    _SharedRecordingServer.servers.clear()


@pytest.fixture
def jobs_app(app: Any) -> Iterator[Any]:
    job_context.set_app(app)
    yield app
    job_context.set_app(None)


class Errors:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[str] = []

    def add(self, where: str, what: object) -> None:
        with self.lock:
            self.items.append(f"{where}: {what}")


def _routed_cases(count: int, department: str, clock: Any) -> list[int]:
    from cases.intake import file_case

    session = db.session()
    ids = []
    for n in range(count):
        case = file_case(session, description=f"企业反映用电增容问题{n}", actor=OPERATOR,
                         now=clock(), channel="window")
        session.flush()
        do_route_to_department(session, case.id,
                               department_id=department_id(session, department),
                               actor=OPERATOR, now=clock())
        session.flush()
        ids.append(session.scalars(select(Assignment.id).where(
            Assignment.case_id == case.id)).one())
    session.commit()
    return ids


def _signed_in(app: Any, username: str) -> tuple[Any, str]:
    client = app.test_client()
    response = client.post("/console/login", data={
        "username": username, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 303, response.status_code
    page = client.get("/console/", follow_redirects=True).get_data(as_text=True)
    found = CSRF_META.search(page)
    assert found, "no CSRF token on the start page"
    return client, found.group(1)


def _console(app: Any, username: str, posts: list[tuple[str, dict[str, str]]],
             errors: Errors, statuses: list[int]) -> Callable[[], None]:
    def run() -> None:
        try:
            client, token = _signed_in(app, username)
        except BaseException as exc:
            errors.add(f"sign-in {username}", repr(exc))
            return
        for path, data in posts:
            try:
                response = client.post(path, data={**data, "csrf_token": token})
            except BaseException as exc:  # TESTING propagates the handler's exception
                errors.add(f"POST {path}", repr(exc))
                continue
            statuses.append(response.status_code)
            if response.status_code != 303:
                errors.add(f"POST {path}", f"{response.status_code} "
                           f"{response.get_data(as_text=True)[:300]}")
        db.session.remove()
    return run


def test_console_posts_under_webhook_and_voicemail_load_all_succeed(
    app: Any, accounts: Accounts, jobs_app: Any, speech_engine: None, recording_servers: None,
    redis_conn: Any, clock: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    from ivr.jobs import drain_call_log
    from ivr.phone import InProcessTransport, TerminalPhone
    from transcription.jobs import transcribe_recording

    clock.set_local("2026-11-24 03:00")  # a working day's night: every call leaves a message
    dept_a = _routed_cases(DEPARTMENT_CASES, DEPT_A, clock)
    dept_b = _routed_cases(DEPARTMENT_CASES, DEPT_B, clock)
    db.session.remove()

    def operator_posts(who: str) -> list[tuple[str, dict[str, str]]]:
        return [("/console/cases/new", {
            "channel": "window", "description": f"{who}登记：企业咨询融资政策{n}",
            "category": "factor", "contact_name": "张经理",
            "contact_phone": "13800138000"}) for n in range(OPERATOR_POSTS)]

    def department_posts(assignments: list[int]) -> list[tuple[str, dict[str, str]]]:
        posts = []
        for a in assignments:
            posts += [(f"/console/assignments/{a}/accept", {}),
                      (f"/console/assignments/{a}/progress", {"text": "已约企业现场踏勘"}),
                      (f"/console/assignments/{a}/reply", {"text": "已协调供电公司增容"})]
        return posts

    errors = Errors()
    statuses: list[int] = []
    consoles = [
        threading.Thread(target=_console(app, "op", operator_posts("甲"), errors, statuses),
                         name="operator-1"),
        threading.Thread(target=_console(app, "op", operator_posts("乙"), errors, statuses),
                         name="operator-2"),
        threading.Thread(target=_console(app, "dept-a", department_posts(dept_a), errors,
                                         statuses), name="department-a"),
        threading.Thread(target=_console(app, "dept-b", department_posts(dept_b), errors,
                                         statuses), name="department-b"),
    ]
    done = threading.Event()
    wav = write_tone_wav(tmp_path / "message.wav", seconds=1.0)
    calls: list[str] = []

    def webhooks() -> None:
        phone = TerminalPhone(transport=InProcessTransport(app), base_url=PUBLIC_BASE_URL,
                              auth_token=AUTH_TOKEN, account_sid=app.config["TWILIO_ACCOUNT_SID"],
                              echo=lambda _line: None)
        while not done.is_set() or len(calls) < MIN_CALLS:
            try:
                caller = f"+86138{len(calls):08d}"  # one case each (not a repeat call)
                calls.append(phone.call(from_number=caller, keys=["4"], voicemail=wav).call_sid)
            except BaseException as exc:
                errors.add("call", repr(exc))
                return
        db.session.remove()

    def drains() -> None:
        while True:
            last = done.is_set() and not web.is_alive()
            try:
                drain_call_log()
            except BaseException as exc:
                errors.add("drain", repr(exc))
            if last:
                break
            done.wait(0.05)
        db.session.remove()

    def transcriptions() -> None:
        from rq import Queue

        from core.queues import TRANSCRIPTION

        queue = Queue(TRANSCRIPTION, connection=redis_conn)
        while True:
            last = done.is_set() and not drainer.is_alive()
            for job in queue.get_jobs():
                try:
                    transcribe_recording(*job.args, **job.kwargs)
                except BaseException as exc:
                    errors.add("transcription", repr(exc))
                queue.remove(job)
            if last:
                break
            done.wait(0.05)
        db.session.remove()

    web = threading.Thread(target=webhooks, name="webhooks")
    drainer = threading.Thread(target=drains, name="drain")
    transcriber = threading.Thread(target=transcriptions, name="transcription")
    assert db.engine is not None
    with StaleSnapshots(db.engine) as races:
        for thread in (web, drainer, transcriber, *consoles):
            thread.start()
        for thread in consoles:
            thread.join(120)
        done.set()
        for thread in (web, drainer, transcriber):
            thread.join(120)
    print(f"held back: {races.held}, stale: {races.stale}")

    assert errors.items == [], "\n".join(errors.items)
    logged = [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records
              if r.levelno >= logging.ERROR or "locked" in r.getMessage()]
    assert logged == [], "\n".join(logged)
    assert len(statuses) == 2 * OPERATOR_POSTS + 2 * 3 * DEPARTMENT_CASES
    db.session.expire_all()
    session = db.session()
    recordings = session.scalar(select(func.count()).select_from(Recording))
    assert recordings == len(calls)
    assert session.scalar(select(func.count()).select_from(Transcript)) == len(calls)
    assert session.scalar(select(func.count()).select_from(Case)) == (
        2 * OPERATOR_POSTS + 2 * DEPARTMENT_CASES + len(calls))
