"""Console test fixtures: one account per role, signing in, voicemail cases with transcripts.

Accounts share one Argon2 hash computed once per session (hashing costs ~0.15 s); most
tests sign in by writing the session cookie, a few go through the login form. CSRF is off
here except in the tests about it (and in the browser tests, which submit real forms).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actions.triage import do_route_to_department
from cases.actors import Actor
from cases.case_models import Case
from cases.intake import file_case
from cases.models import Department
from cases.voicemail import file_voicemail
from console import passwords
from console.auth import _fingerprint
from console.models import User
from console.passwords import hash_password
from core.db import db
from ivr.models import Call, Recording
from tests.conftest import write_tone_wav
from transcription.chinese import TranscriptResult, Word, join_words
from transcription.models import Transcript
from transcription.pipeline import store_transcript

PASSWORD = "Console-test-1"
DEPT_A = "区金融发展服务中心"
DEPT_B = "区经信局"
OPERATOR = Actor("operator", "测试工作人员")
# The voicemail of the tests: "带款" is the misheard (low-confidence) word for 贷款.
WORDS = [("我们", 0.0, 0.4, 0.95), ("公司", 0.4, 0.8, 0.9), ("想", 0.8, 1.0, 0.92),
         ("咨询", 1.0, 1.4, 0.88), ("带款", 1.4, 1.8, 0.31), ("融资", 1.8, 2.2, 0.85),
         ("的", 2.2, 2.3, 0.97), ("问题", 2.3, 2.7, 0.93)]
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Accounts:
    operator: User
    dept_a: User
    dept_b: User
    supervisor: User
    admin: User

    def by_role(self, role: str) -> User:
        return {"operator": self.operator, "department": self.dept_a,
                "supervisor": self.supervisor, "admin": self.admin}[role]


def department_id(session: Session, name: str) -> int:
    return session.scalars(select(Department.id).where(Department.name == name)).one()


@pytest.fixture
def accounts(app: Any, password_hash: str) -> Accounts:
    session = db.session()

    def make(username: str, role: str, department: str | None = None) -> User:
        user = User(username=username, display_name=f"{username}-姓名", role=role,
                    department_id=department_id(session, department) if department else None,
                    password_hash=password_hash, active=True)
        session.add(user)
        return user

    result = Accounts(make("op", "operator"), make("dept-a", "department", DEPT_A),
                      make("dept-b", "department", DEPT_B), make("sup", "supervisor"),
                      make("adm", "admin"))
    session.commit()
    return result


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch, accounts: Accounts) -> None:
    """Argon2's cheapest parameters, for tests that only count sign-in attempts (the
    owner-lockout test checks twenty-odd guesses, a quarter of a second each with the
    product's parameters). test_auth.test_password_is_stored_as_an_argon2_hash proves the
    product's own parameters; the throttle under test does not depend on the hash's cost."""
    hasher = PasswordHasher.from_parameters(CHEAPEST)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    for user in (accounts.operator, accounts.dept_a, accounts.dept_b, accounts.supervisor,
                 accounts.admin):
        user.password_hash = hasher.hash(PASSWORD)
    db.session.commit()


@pytest.fixture
def sign_in(client: Any) -> Callable[[User | None], Any]:
    """Sign ``client`` in as ``user`` by writing the session (None signs out)."""

    def sign(user: User | None) -> Any:
        with client.session_transaction() as sess:
            sess.clear()
            if user is not None:
                sess["uid"] = user.id
                sess["fp"] = _fingerprint(user)
                sess["sv"] = user.session_version
        return client

    return sign


def csrf_token(client: Any, path: str = "/console/login") -> str:
    found = CSRF_META.search(client.get(path).get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class VoicemailCase:
    case: Case
    recording: Recording
    transcript: Transcript


def add_voicemail(session: Session, recordings_dir: Path, now: datetime, *,
                  caller: str = "+8613800138000", category: str | None = "factor",
                  words: list[tuple[str, float, float, float]] | None = None,
                  sid: str = "1") -> VoicemailCase:
    """A call that left a voicemail, its stored audio and transcript, filed as a case."""
    call = Call(call_sid=f"CA{sid:0>32}", from_number=caller, category=category,
                started_at=now - timedelta(minutes=2), status="completed", duration=60)
    recording = Recording(recording_sid=f"RE{sid:0>32}", call=call, status="completed",
                          duration=3, created_at=now)
    session.add_all([call, recording])
    session.flush()
    filing = file_voicemail(session, recording_id=recording.id, call_id=call.id, caller=caller,
                            category=category, subcategory=None, now=now)
    recordings_dir.mkdir(parents=True, exist_ok=True)
    audio = write_tone_wav(recordings_dir / f"{recording.recording_sid}.wav", seconds=3.0)
    recording.local_path = str(audio)
    recording.sha256 = hashlib.sha256(audio.read_bytes()).hexdigest()
    chosen = words if words is not None else WORDS
    result = TranscriptResult(
        text=join_words(w for w, *_ in chosen),
        words=[Word(w, s, e, c) for w, s, e, c in chosen],
        confidence=sum(c for *_, c in chosen) / max(len(chosen), 1), duration=3.0,
        model_name="vosk-model-small-cn-0.22", rtf=0.3, is_empty=not chosen)
    transcript = store_transcript(session, recording, result, now=now)
    session.commit()
    return VoicemailCase(filing.case, recording, transcript)


@pytest.fixture
def voicemail_case(app: Any, clock: Any) -> VoicemailCase:
    return add_voicemail(db.session(), Path(app.config["RECORDINGS_DIR"]), clock())


@pytest.fixture
def window_case(app: Any, clock: Any) -> Callable[..., Case]:
    """``window_case(description=…, **fields)``: a case filed at the service window."""

    def make(description: str = "企业咨询用电增容的办理流程", **fields: Any) -> Case:
        fields.setdefault("channel", "window")
        case = file_case(db.session(), description=description, actor=OPERATOR, now=clock(),
                         **fields)
        db.session.commit()
        return case

    return make


@pytest.fixture
def routed_case(app: Any, clock: Any, window_case: Callable[..., Case]) -> Case:
    """A window case routed to department A."""
    case = window_case("企业反映融资贷款难，希望了解政策性担保")
    session = db.session()
    do_route_to_department(session, case.id, department_id=department_id(session, DEPT_A),
                           actor=OPERATOR, now=clock())
    session.commit()
    return case


# How long a browser test waits for anything: an expect() to come true, an element to act
# on, a page to load. Generous, for a CI machine running two suites side by side on two
# cores (Playwright's 5 s for expect() failed there); a wrong selector still fails in 20 s.
# Set here once, for every context (tests pass no timeouts of their own).
BROWSER_TIMEOUT_MS = 20_000


class Chromium:
    """The session's browser: every context it opens waits up to BROWSER_TIMEOUT_MS."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


def session_cookie(app: Any, user: User) -> dict[str, str]:
    """The session cookie signing in as ``user`` (what a successful sign-in sets), for a
    browser test that is not about signing in: the Argon2 check and the form's two round
    trips cost a second or more on a loaded machine. test_browser signs in through the form."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess.permanent = True
        sess["uid"] = user.id
        sess["fp"] = _fingerprint(user)
        sess["sv"] = user.session_version
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return {"name": cookie.key, "value": cookie.value}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session (each test opens its own contexts, so nothing is shared
    between tests but the process): starting it per test cost a core-second or two each."""
    from playwright.sync_api import expect, sync_playwright

    from tests import faketime
    from tests.console.test_browser import CHROMIUM, LAUNCH_ARGS

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        # The machine's real clock (CI runs the suite under libfaketime: tests/faketime.py).
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              env=faketime.real_clock_environment(),
                                              args=LAUNCH_ARGS)
        yield Chromium(chromium)
        chromium.close()
