"""In a real browser: a failed download said in Chinese, the queue mark, the enterprise picker.

Screenshots go to ``test-artifacts/screenshots/`` like the other browser tests.
"""

from __future__ import annotations

from typing import Any

from cases.case_models import Case
from cases.models import Enterprise
from core.db import db
from tests.console.conftest import Accounts, VoicemailCase
from tests.console.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    Desk,
    live_config,
    live_server,
    pytestmark,
)


def test_failed_download_and_picking_the_enterprise(
        live_server: str, browser: Any, app: Any, accounts: Accounts, clock: Any,  # noqa: F811
        voicemail_case: VoicemailCase) -> None:
    from playwright.sync_api import expect

    session = db.session()
    jia = Enterprise(name="宁波甲机械有限公司", uscc="91350100M000100Y43", created_at=clock())
    session.add_all([jia, Enterprise(name="宁波乙电子有限公司", created_at=clock())])
    recording = voicemail_case.recording
    recording.local_path = None
    recording.transcription_status = "failed"
    recording.transcription_error = "DownloadFailed: HTTP 404 from api.twilio.com"
    session.commit()
    case = voicemail_case.case

    operator = Desk(browser, live_server)
    operator.enter(accounts.operator)
    row = operator.page.locator("tr", has_text=case.number)
    expect(row.locator(".badge.problem")).to_have_text("录音下载失败")
    operator.shot("review-queue-recording-problem")

    row.get_by_role("link", name=case.number).click()
    page = operator.page
    problem = page.locator(".recording-problem")
    expect(problem.locator("strong")).to_have_text("录音下载失败")
    expect(problem.get_by_role("button", name="重新下载并转写")).to_be_visible()
    expect(problem.locator("details.tech code")).to_be_hidden()  # folded away
    operator.shot("review-case-download-failed")

    page.locator("#review input[name=enterprise]").fill("甲机械")
    option = page.get_by_role("option", name="宁波甲机械有限公司 · 91350100M000100Y43")
    expect(option).to_be_visible()
    operator.shot("review-enterprise-picker")
    option.click()
    assert page.locator("#review input[name=enterprise_id]").input_value() == str(jia.id)
    page.get_by_role("button", name="保存并标记已审核").click()
    operator.expect_flash("诉求信息已保存")
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert saved is not None and saved.enterprise_id == jia.id
    trail = page.locator("ol.audit").inner_text()
    assert "宁波甲机械有限公司" in trail
    operator.shot("review-case-enterprise-linked")
    operator.close()
