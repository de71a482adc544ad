"""The console in a real browser (Debian's Chromium driven by Playwright), end to end.

A voicemail left through the terminal phone (over HTTP, against a live server) is
transcribed (the worker's hand-off is called directly: no Vosk model here), reviewed and
corrected by an operator, routed, answered by the department, rated by phone; a second
department cannot open it. Screenshots of every main page go to
``test-artifacts/screenshots/``. CSRF is on, as in production: every form is real.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select
from werkzeug.serving import make_server

from cases.case_models import Case
from console.models import User
from core.db import db
from ivr.models import Recording
from ivr.phone import HttpTransport, TerminalPhone
from tests.conftest import AUTH_TOKEN
from tests.console.conftest import DEPT_A, PASSWORD, WORDS, Accounts, session_cookie
from transcription.chinese import TranscriptResult, Word, join_words
from transcription.pipeline import store_transcript

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# The screenshots docs/console.md shows (copied from SCREENSHOTS).
DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images" / "console"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture
def live_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A plain-HTTP installation on a free port, CSRF on (set before the app is built)."""
    server = make_server("127.0.0.1", 0, lambda environ, start: [])
    port = server.server_port
    server.server_close()
    app_config.update(WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                      PORT=port)
    return app_config


@pytest.fixture
def live_server(live_config: dict[str, Any], app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", live_config["PORT"], app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield live_config["PUBLIC_BASE_URL"]
    server.shutdown()
    thread.join(5)


class Desk:
    """One person at the console: a browser page signed in as one user."""

    def __init__(self, browser: Any, base: str, width: int = 1366, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           locale="zh-CN")
        self.page = self.context.new_page()
        self.base = base

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        """Sign in through the form, as a person does."""
        self.go("/console/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="登录").click()
        assert "/console/login" not in self.page.url, self.page.content()[:500]

    def enter(self, user: User, path: str = "/console/") -> Any:
        """Signed in as ``user`` by the session cookie a sign-in sets (tests not about
        signing in: see ``session_cookie``), on ``path`` (by default the role's home)."""
        self.context.add_cookies([{**session_cookie(current_app, user), "url": self.base}])
        response = self.go(path)
        assert "/console/login" not in self.page.url, self.page.content()[:500]
        return response

    def shot(self, name: str) -> None:
        """A screenshot: the whole page where the docs show it, else what is in view."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"),
                             full_page=(DOC_IMAGES / f"{name}.png").exists())

    def expect_flash(self, text: str) -> None:
        """Wait (auto-retrying) for the post-redirect page's flash message to say ``text``."""
        from playwright.sync_api import expect

        expect(self.page.locator(".flash", has_text=text)).to_be_visible()

    def close(self) -> None:
        self.context.close()


def transcribe(app: Any, recording_sid: str, wav: Path) -> None:
    """What the worker does after decoding: audio stored, transcript handed to the case."""
    session = db.session()
    recording = session.scalars(select(Recording).where(
        Recording.recording_sid == recording_sid)).one()
    target = Path(app.config["RECORDINGS_DIR"]) / f"{recording_sid}.wav"
    target.parent.mkdir(parents=True, exist_ok=True)
    recording.local_path = str(shutil.copy(wav, target))
    result = TranscriptResult(
        text=join_words(w for w, *_ in WORDS), words=[Word(*w) for w in WORDS],
        confidence=0.84, duration=3.0, model_name="vosk-model-small-cn-0.22", rtf=0.3,
        is_empty=False)
    store_transcript(session, recording, result, now=app.config["CLOCK"]())
    session.commit()


def test_voicemail_from_queue_to_rating(live_server: str, browser: Any, app: Any,
                                        accounts: Accounts, clock: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from tests.conftest import write_tone_wav

    clock.set_local("2026-11-27 03:00")
    wav = write_tone_wav(tmp_path / "message.wav", seconds=3.0)
    phone = TerminalPhone(transport=HttpTransport(live_server), base_url=live_server,
                          auth_token=AUTH_TOKEN, account_sid=app.config["TWILIO_ACCOUNT_SID"],
                          echo=lambda _line: None)
    outcome = phone.call(keys=["2"], voicemail=wav)
    assert outcome.recording_sid
    transcribe(app, outcome.recording_sid, wav)
    case = db.session.scalars(select(Case)).one()
    clock.set_local("2026-11-27 09:00")

    operator = Desk(browser, live_server)
    operator.go("/console/login")
    operator.shot("01-login")
    operator.login("op")
    assert operator.page.url.endswith("/console/queue")
    row = operator.page.locator("tr", has_text=case.number)
    assert "待审核" in row.inner_text() and "带款" in row.inner_text()
    operator.shot("02-operator-queue")

    # Review: play from a word, correct the misheard one, route to the suggested department.
    row.get_by_role("link", name=case.number).click()
    page = operator.page
    expect(page.locator("audio")).to_have_count(1)
    low = page.locator(".w.low", has_text="带款")
    expect(low).to_have_count(1)
    duration = page.evaluate(
        "() => new Promise(r => { const a = document.querySelector('audio');"
        " if (a.readyState >= 1) r(a.duration); else a.onloadedmetadata = () => r(a.duration); })")
    assert duration == pytest.approx(3.0, abs=0.1)
    low.click()
    page.wait_for_function("document.querySelector('audio').currentTime >= 1.3")
    operator.shot("03-case-review")
    page.locator("details.correct summary").click()
    page.fill("input[name=word-4]", "贷款")
    page.get_by_role("button", name="保存逐词更正").click()
    operator.expect_flash("转写已更正")
    assert "我们公司想咨询贷款融资的问题" in page.locator(".description").inner_text()
    chooser = page.locator("#route select[name=department_id]")
    assert chooser.locator("option:checked").inner_text().startswith(DEPT_A)
    page.get_by_role("button", name=re.compile("交办")).first.click()
    operator.expect_flash("已流转交办")
    operator.shot("04-case-routed")
    operator.go(f"/console/calls/{case.call_id}")
    assert "语音导航路径" in page.content()
    operator.shot("05-call-detail")
    operator.go("/console/calls")
    operator.shot("06-call-log")
    operator.go("/console/enterprises?check=91350100M000100Y44")
    assert "校验码" in page.content()
    operator.shot("07-enterprises")

    # The department sees it with its deadline, accepts and replies.
    department = Desk(browser, live_server)
    department.enter(accounts.dept_a)
    assert department.page.url.endswith("/console/department")
    assert case.number in department.page.content()
    assert "剩2个工作日" in department.page.content()
    department.shot("08-department-workspace")
    department.page.get_by_role("link", name=case.number).click()
    department.page.get_by_role("button", name="签收").click()
    department.expect_flash("已签收")
    department.page.fill("textarea[name=text]", "已联系企业，介绍政策性融资担保，企业表示认可。")
    department.page.get_by_role("button", name="提交答复").click()
    department.expect_flash("答复已提交")
    department.shot("09-department-replied")

    # Another department: the case does not exist for it.
    other = Desk(browser, live_server)
    response = other.enter(accounts.dept_b, f"/console/cases/{case.id}")
    assert response.status == 404
    assert case.number not in other.page.content()
    response = other.go(f"/console/recordings/{case.recording_id}/audio")
    assert response.status == 404

    # The operator calls the enterprise back and records the rating.
    operator.go("/console/followups")
    assert case.number in operator.page.content()
    operator.shot("10-followups")
    operator.page.get_by_role("link", name="登记评价").click()
    operator.page.get_by_label("非常满意").check()
    operator.page.get_by_role("button", name="登记评价").click()
    operator.expect_flash("回访评价已登记")
    assert "已办结" in operator.page.locator("h1").inner_text()
    operator.shot("11-case-closed")

    supervisor = Desk(browser, live_server)
    supervisor.enter(accounts.supervisor)
    supervisor.shot("12-supervisor-overview")
    supervisor.go("/console/supervisor/cases")
    assert case.number in supervisor.page.content()
    supervisor.shot("13-supervisor-cases")

    admin = Desk(browser, live_server)
    admin.enter(accounts.admin)
    for path, name in [("/console/admin/users", "14-admin-users"),
                       ("/console/admin/departments", "15-admin-departments"),
                       ("/console/admin/calendar?year=2027", "16-admin-calendar"),
                       ("/console/admin/flows", "17-admin-flows")]:
        assert admin.go(path).status == 200
        admin.shot(name)
    for desk in (operator, department, other, supervisor, admin):
        desk.close()


def test_department_reports_progress_then_explains(live_server: str, browser: Any, app: Any,
                                                   accounts: Accounts,
                                                   routed_case: Case) -> None:
    """进度反馈 keeps the case open; 解释说明 needs its policy and then answers the case."""
    from playwright.sync_api import expect

    department = Desk(browser, live_server)
    department.enter(accounts.dept_a, f"/console/cases/{routed_case.id}")
    page = department.page
    page.locator("summary", has_text="进度反馈").click()
    page.get_by_label("办理进度").fill("已约企业下周现场踏勘，踏勘后一周内给出结论。")
    page.get_by_role("button", name="提交进度反馈").click()
    department.expect_flash("进度反馈已提交")
    assert "办理中" in page.locator("h1").inner_text()
    expect(page.locator(".reply-progress", has_text="已约企业下周现场踏勘")).to_have_count(1)
    department.shot("18-department-progress")

    page.get_by_label("解释说明（政策规定无法办理）").check()
    page.get_by_label("答复内容").fill("企业不在贷款贴息支持范围内，已告知可申请的其他渠道。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交答复").click()
    # Refused, nothing lost.
    expect(page.locator(".field-error", has_text="解释说明须注明所依据的政策")).to_be_visible()
    assert "已答复" not in page.locator("h1").inner_text()
    department.go(f"/console/cases/{routed_case.id}")
    page.get_by_label("解释说明（政策规定无法办理）").check()
    page.get_by_label("答复内容").fill("企业不在贷款贴息支持范围内，已告知可申请的其他渠道。")
    page.get_by_label("依据政策（解释说明必填）").fill("奉政办发〔2021〕35号附件3")
    page.get_by_role("button", name="提交答复").click()
    department.expect_flash("答复已提交")
    explained = page.locator(".reply-explanation")
    assert "依据：奉政办发〔2021〕35号附件3" in explained.inner_text()
    department.shot("19-department-explained")
    db.session.expire_all()
    case = db.session.get(Case, routed_case.id)
    assert case is not None and case.status == "answered"
    assert [r.kind for r in case.replies] == ["progress", "explanation"]
    department.close()
