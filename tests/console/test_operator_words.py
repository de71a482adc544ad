"""Operators read Chinese: recording problems, the audit trail and the call log have labels."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.actions.details import do_update_details
from cases.audit import record_event
from cases.case_models import Case
from cases.models import Enterprise
from cases.notice_models import ReminderLevel
from console.labels import ACTION_LABELS
from core.db import db
from ivr.models import Call, Recording
from tests.console.conftest import OPERATOR, Accounts, VoicemailCase

ROOT = Path(__file__).resolve().parents[2]
DOWNLOAD_ERROR = "DownloadFailed: HTTP 404 from https://api.twilio.com/…/RE1.wav"


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def outside_details(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.DOTALL)


def fail_download(recording: Recording) -> None:
    recording.local_path = None
    recording.transcription_status = "failed"
    recording.transcription_error = DOWNLOAD_ERROR
    db.session.commit()


def test_failed_download_is_said_in_chinese_with_a_retry_button(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase) -> None:
    fail_download(voicemail_case.recording)
    sign_in(accounts.operator)
    html = page(client, f"/console/cases/{voicemail_case.case.id}")
    assert "录音下载失败" in html
    assert f'action="/console/recordings/{voicemail_case.recording.id}/retry"' in html
    assert "重新下载并转写" in html
    # The technical detail is there for whoever needs it, folded away.
    assert "技术详情" in html and "DownloadFailed" in html
    assert "DownloadFailed" not in outside_details(html)


def test_retry_button_queues_the_recording_again(
        app_config: dict[str, Any], redis_url: str, accounts: Accounts, sign_in: Any,
        voicemail_case: VoicemailCase, redis_conn: Any) -> None:
    from rq import Queue

    from app import create_app

    app_config["REDIS_URL"] = redis_url
    client = create_app(app_config).test_client()
    fail_download(voicemail_case.recording)
    with client.session_transaction() as sess:
        from console.auth import _fingerprint

        sess["uid"], sess["fp"] = accounts.operator.id, _fingerprint(accounts.operator)
        sess["sv"] = accounts.operator.session_version
    back = f"/console/cases/{voicemail_case.case.id}"
    response = client.post(f"/console/recordings/{voicemail_case.recording.id}/retry",
                           data={"next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    db.session.expire_all()
    recording = db.session.get(Recording, voicemail_case.recording.id)
    assert recording is not None and recording.transcription_status == "queued"
    assert recording.transcription_job_id in Queue("transcription",
                                                   connection=redis_conn).job_ids
    assert "已重新排队" in page(client, back)


def test_retry_without_a_queue_says_so(client: Any, accounts: Accounts, sign_in: Any,
                                       voicemail_case: VoicemailCase) -> None:
    fail_download(voicemail_case.recording)
    sign_in(accounts.operator)
    response = client.post(f"/console/recordings/{voicemail_case.recording.id}/retry",
                           follow_redirects=True)
    assert "后台任务队列暂时不可用" in response.get_data(as_text=True)


def test_departments_cannot_retry(client: Any, accounts: Accounts, sign_in: Any,
                                  voicemail_case: VoicemailCase) -> None:
    sign_in(accounts.dept_a)
    assert client.post(
        f"/console/recordings/{voicemail_case.recording.id}/retry").status_code == 403


def test_queue_marks_failed_and_stuck_recordings(
        client: Any, accounts: Accounts, sign_in: Any, app: Any, clock: Any) -> None:
    from tests.console.conftest import add_voicemail

    recordings = Path(app.config["RECORDINGS_DIR"])
    failed = add_voicemail(db.session(), recordings, clock(), sid="11")
    stuck = add_voicemail(db.session(), recordings, clock(), sid="12",
                          caller="+8613900139000")
    fine = add_voicemail(db.session(), recordings, clock(), sid="13", caller="+8613700137000")
    fail_download(failed.recording)
    stuck.recording.transcription_status = "queued"
    stuck.recording.updated_at = clock() - timedelta(hours=2)
    fine.recording.transcription_status = "queued"
    fine.recording.updated_at = clock() - timedelta(minutes=1)
    db.session.commit()
    sign_in(accounts.operator)
    html = page(client, "/console/queue")
    rows = {number: row for row in html.split("<tr") for number in
            (failed.case.number, stuck.case.number, fine.case.number) if number in row}
    assert "录音下载失败" in rows[failed.case.number]
    assert "转写长时间未完成" in rows[stuck.case.number]
    assert 'badge problem' not in rows[fine.case.number]


def test_audit_trail_shows_labels_not_codes(client: Any, accounts: Accounts, sign_in: Any,
                                            window_case: Any, clock: Any) -> None:
    case = window_case()
    session = db.session()
    enterprise = Enterprise(name="宁波甲机械有限公司", created_at=clock())
    session.add(enterprise)
    session.flush()
    do_update_details(session, case.id, actor=OPERATOR, now=clock(), category="factor",
                      subcategory="land", enterprise_id=enterprise.id)
    found = session.get(Case, case.id)
    assert found is not None
    record_event(session, found, actor=OPERATOR, action="followup_to_operator", now=clock(),
                 after={"followup_id": 1}, note="转人工回访：未接听")
    session.commit()
    sign_in(accounts.operator)
    html = page(client, f"/console/cases/{case.id}")
    trail = html.split("操作记录（审计）", 1)[1].split("</ol>", 1)[0]
    assert "土地厂房" in trail and "宁波甲机械有限公司" in trail and "转人工回访" in trail
    for code in ("land", "followup_to_operator", "followup_id", f">{enterprise.id}<"):
        assert code not in trail


def test_every_audit_action_in_the_code_has_a_label() -> None:
    # Deadline levels become audit steps (reminder_due_soon …); the extension reminder
    # (延期待审批) only notifies the supervisors and records no step.
    levels = [level for level in ReminderLevel if level != ReminderLevel.EXTENSION]
    actions: set[str] = {f"{kind}_{level}" for level in levels
                         for kind in ("reminder", "decision")}
    patterns = [r'action="([a-z_]+)"', r'_event\(\s*session,\s*[\w.]+,\s*"([a-z_]+)"',
                r'_assignment_event\(\s*session,\s*\w+,\s*"([a-z_]+)"',
                r'audit_step\(\s*session,\s*[\w.]+,\s*"([a-z_]+)"',
                r'"([a-z_]+)" if kind == ReplyKind.ANSWER else "([a-z_]+)"']
    for path in [*(ROOT / "cases").rglob("*.py"), *(ROOT / "console").rglob("*.py"),
                 *(ROOT / "followup").rglob("*.py")]:
        text = path.read_text()
        for pattern in patterns:
            for found in re.findall(pattern, text):
                actions.update([found] if isinstance(found, str) else found)
    assert {"followup_to_operator", "routed", "filed"} <= actions
    assert sorted(a for a in actions if a not in ACTION_LABELS) == []


def test_call_log_shows_node_titles(client: Any, accounts: Accounts, sign_in: Any,
                                    clock: Any) -> None:
    db.session.add(Call(call_sid="CA" + "5" * 32, from_number="+8613800138000",
                        started_at=clock(), status="completed", last_node="factor_menu",
                        category="factor", subcategory="land"))
    db.session.commit()
    sign_in(accounts.operator)
    listing = page(client, "/console/calls")
    assert "要素保障" in listing and "factor_menu" not in listing
    call = db.session.scalars(select(Call)).one()
    detail = page(client, f"/console/calls/{call.id}")
    assert "土地厂房" in detail and "8718企业服务热线" in detail
    assert ">land<" not in detail and "hotline" not in outside_details(detail).split(
        "<main", 1)[-1]
