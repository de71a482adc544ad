"""The operator's pages: queue, case detail and its forms, call log, recordings, corrections."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cases.case_models import Case, CaseEvent
from cases.vocab import Status
from core.db import db
from tests.console.conftest import (
    DEPT_A,
    Accounts,
    VoicemailCase,
    add_voicemail,
    department_id,
)
from transcription.corrections import TranscriptCorrection
from transcription.models import Transcript

HOTLINE = ZoneInfo("Asia/Shanghai")


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def reload(case: Case) -> Case:
    db.session.expire_all()
    found = db.session.get(Case, case.id)
    assert found is not None
    return found


# -- queue ------------------------------------------------------------------------------------


def test_queue_lists_every_channel_longest_waiting_first_with_voicemails_to_review(
    client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any,
    voicemail_case: VoicemailCase,
) -> None:
    clock.now += timedelta(minutes=5)
    window = window_case("企业咨询厂房租赁补贴政策")
    sign_in(accounts.operator)
    html = page(client, "/console/queue")
    # Both are due today: the one waiting longer comes first.
    assert html.index(voicemail_case.case.number) < html.index(window.number)
    assert "待审核" in html and "8718热线留言" in html and "8718服务窗口" in html
    assert "我们公司想咨询带款融资的问题" in html


def test_queue_puts_the_most_urgent_first(client: Any, accounts: Accounts, sign_in: Any,
                                          window_case: Any, clock: Any) -> None:
    """Overdue, then due today, then due soonest; newest-first used to sink the overdue."""
    clock.set_local("2026-11-20 10:00")  # a Friday: due that day, overdue by Tuesday
    overdue = window_case("上周五受理，尚未分办")
    clock.set_local("2026-11-24 09:00")
    due_today = window_case("今天上午受理")
    clock.set_local("2026-11-24 09:30")
    also_today = window_case("今天上午稍晚受理")
    clock.set_local("2026-11-24 18:00")  # after hours: due tomorrow
    tomorrow = window_case("今天下班后受理")
    clock.set_local("2026-11-24 18:05")
    sign_in(accounts.operator)
    html = page(client, "/console/queue")
    at = [html.index(c.number) for c in (overdue, due_today, also_today, tomorrow)]
    assert at == sorted(at), at
    row = html.split(overdue.number)[1].split("</tr>")[0]
    assert "已逾期" in row


def test_queue_filters_and_search(client: Any, accounts: Accounts, sign_in: Any,
                                  window_case: Any, voicemail_case: VoicemailCase) -> None:
    window = window_case("企业咨询厂房租赁补贴政策", contact_phone="13912345678",
                         category="policy")
    sign_in(accounts.operator)
    voicemail = voicemail_case.case.number
    by_channel = page(client, "/console/queue?channel=window")
    assert window.number in by_channel and voicemail not in by_channel
    by_category = page(client, "/console/queue?category=factor")
    assert voicemail in by_category and window.number not in by_category
    by_phone = page(client, "/console/queue?q=139-1234-5678")
    assert window.number in by_phone and voicemail not in by_phone
    by_number = page(client, f"/console/queue?q={voicemail}")
    assert voicemail in by_number and window.number not in by_number
    nothing = page(client, "/console/queue?from=2030-01-01")
    assert "没有待分办的诉求" in nothing


def test_queue_search_by_enterprise_name(client: Any, accounts: Accounts, sign_in: Any,
                                         window_case: Any, clock: Any) -> None:
    from cases.enterprises import register_enterprise

    enterprise = register_enterprise(db.session(), name="宁波甬江精密机械有限公司",
                                     uscc="91350100M000100Y43", now=clock()).enterprise
    mine = window_case("企业反映用电容量不足", enterprise_id=enterprise.id)
    other = window_case("另一家企业咨询人才政策")
    sign_in(accounts.operator)
    html = page(client, "/console/queue?q=甬江精密")
    assert mine.number in html and other.number not in html
    assert mine.number in page(client, "/console/queue?q=91350100M000100Y43")


def test_queue_overdue_filter(client: Any, accounts: Accounts, sign_in: Any, window_case: Any,
                              clock: Any) -> None:
    old = window_case("上周的诉求")
    clock.now += timedelta(days=7)
    fresh = window_case("今天的诉求")
    sign_in(accounts.operator)
    html = page(client, "/console/queue?overdue=1")
    assert old.number in html and fresh.number not in html


def test_queue_is_paginated(client: Any, accounts: Accounts, sign_in: Any, window_case: Any,
                            clock: Any) -> None:
    numbers = []
    for i in range(32):
        clock.now += timedelta(minutes=1)
        numbers.append(window_case(f"诉求{i}").number)
    sign_in(accounts.operator)
    first = page(client, "/console/queue")  # all due today: the longest waiting first
    assert numbers[0] in first and numbers[29] in first and numbers[30] not in first
    cursor = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = page(client, cursor.replace("&amp;", "&"))
    assert numbers[30] in second and numbers[31] in second and numbers[0] not in second
    assert 'rel="next"' not in second


# -- case detail and actions --------------------------------------------------------------------


def test_case_detail_shows_facts_suggestions_player_and_trail(
    client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase
) -> None:
    sign_in(accounts.operator)
    html = page(client, f"/console/cases/{voicemail_case.case.id}")
    assert "区金融发展服务中心" in html and "匹配" in html  # suggestion with its keywords
    assert f"/console/recordings/{voicemail_case.recording.id}/audio" in html
    assert 'class="w low"' in html and 'data-start="1.4"' in html
    assert "留言转写完成" in html and "受理" in html  # audit trail
    for form in ("/route", "/answer", "/details", "/rating"):
        assert (f"/console/cases/{voicemail_case.case.id}{form}" in html) == (form != "/rating")
    assert "/escalate" not in html and "/joint" not in html  # task force (supervisors) only


def test_supervisor_sees_escalation_form(client: Any, accounts: Accounts, sign_in: Any,
                                         window_case: Any) -> None:
    case = window_case()
    sign_in(accounts.supervisor)
    assert f"/console/cases/{case.id}/escalate" in page(client, f"/console/cases/{case.id}")


def test_route_prefills_the_top_suggestion_and_routes(
    client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase
) -> None:
    sign_in(accounts.operator)
    case = voicemail_case.case
    target = department_id(db.session(), DEPT_A)
    html = page(client, f"/console/cases/{case.id}")
    assert f'<option value="{target}" selected>' in html
    response = client.post(f"/console/cases/{case.id}/route",
                           data={"department_id": str(target), "note": "请尽快答复"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/console/cases/{case.id}"
    routed = reload(case)
    assert routed.status == Status.HANDLING and not routed.needs_review
    follow = page(client, response.headers["Location"])
    assert "已流转交办" in follow and DEPT_A in follow
    assert f"/console/cases/{case.id}/reroute" in follow
    assert f"/console/cases/{case.id}/route\"" not in follow


def test_domain_error_answers_4xx_with_the_chinese_message(
    client: Any, accounts: Accounts, sign_in: Any, window_case: Any
) -> None:
    case = window_case()
    sign_in(accounts.operator)
    missing = client.post(f"/console/cases/{case.id}/route", data={"department_id": ""})
    assert missing.status_code == 422
    assert "请选择承办单位" in missing.get_data(as_text=True)
    client.post(f"/console/cases/{case.id}/answer", data={"text": "已电话告知办理流程"})
    again = client.post(f"/console/cases/{case.id}/answer", data={"text": "再答一次"})
    assert again.status_code == 409
    assert "不能即时答复" in again.get_data(as_text=True)


def test_answer_now_then_rate_by_phone(client: Any, accounts: Accounts, sign_in: Any,
                                       window_case: Any) -> None:
    case = window_case()
    sign_in(accounts.operator)
    client.post(f"/console/cases/{case.id}/answer", data={"text": "已电话告知办理流程"})
    assert reload(case).status == Status.ANSWERED
    followups = page(client, "/console/followups")
    assert case.number in followups
    html = page(client, f"/console/cases/{case.id}")
    assert f"/console/cases/{case.id}/rating" in html and "非常满意" in html
    response = client.post(f"/console/cases/{case.id}/rating",
                           data={"score": "5", "comment": "很及时"})
    assert response.status_code == 303
    rated = reload(case)
    assert rated.status == Status.CLOSED and rated.ledger_state == "settled"
    assert rated.ratings[0].via == "operator"
    assert case.number not in page(client, "/console/followups")


def test_poor_rating_sends_an_instant_answer_back_to_the_queue(
    client: Any, accounts: Accounts, sign_in: Any, window_case: Any
) -> None:
    case = window_case()
    sign_in(accounts.operator)
    client.post(f"/console/cases/{case.id}/answer", data={"text": "已答复"})
    client.post(f"/console/cases/{case.id}/rating", data={"score": "1"})
    reworked = reload(case)
    assert (reworked.status, reworked.ledger_state) == (Status.RECEIVED, "hanging")
    assert "重办1" in page(client, "/console/queue")


def test_joint_handling_with_a_meeting(client: Any, accounts: Accounts, sign_in: Any,
                                       window_case: Any, clock: Any) -> None:
    case = window_case()
    session = db.session()
    lead, co = department_id(session, DEPT_A), department_id(session, "区经信局")
    # The form's times are the hotline's local time, whatever the machine's zone.
    meeting = (clock() + timedelta(days=1)).astimezone(HOTLINE).strftime("%Y-%m-%dT10:00")
    form = {"lead_department_id": str(lead), "department_ids": [str(co), str(lead)],
            "meeting_at": meeting}
    sign_in(accounts.operator)  # not the task force: refused, nothing changes
    assert client.post(f"/console/cases/{case.id}/joint", data=form).status_code == 403
    assert reload(case).mode is None
    sign_in(accounts.supervisor)
    response = client.post(f"/console/cases/{case.id}/joint", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)
    joint = reload(case)
    assert joint.mode == "joint" and len(joint.assignments) == 2
    # The chosen lead leads, although another unit was listed first.
    assert [(a.department_id, a.role) for a in joint.assignments] == [(lead, "lead"), (co, "co")]
    html = page(client, f"/console/cases/{case.id}")
    assert f"/console/cases/{case.id}/meeting" in html and "区纪委区监委" in html
    # Attending bodies are invited to the meeting, never offered as handlers.
    assert 'value="' + str(department_id(session, "区委作风办")) + '"> 区委作风办' in html
    oversight = department_id(session, "区纪委区监委")
    held = clock().astimezone(HOTLINE).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/console/cases/{case.id}/meeting", data={
        "held_at": held, "attendees": "区金融发展服务中心、区经信局",
        "attending_ids": [str(oversight)], "minutes": "明确牵头单位"})
    assert reload(case).meetings[0].attendees == ["区金融发展服务中心", "区经信局", "区纪委区监委"]


def test_joint_handling_asks_before_units_without_a_liaison(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any) -> None:
    """专班商办 names the units nobody reads and needs the same confirmation as 流转交办."""
    case = window_case()
    session = db.session()
    lead, tax = department_id(session, DEPT_A), department_id(session, "区税务局")
    meeting = (clock() + timedelta(days=1)).astimezone().strftime("%Y-%m-%dT10:00")
    form = {"lead_department_id": str(lead), "department_ids": [str(tax)],
            "meeting_at": meeting}
    sign_in(accounts.supervisor)
    warned = client.post(f"/console/cases/{case.id}/joint", data=form)
    assert warned.status_code == 422
    html = warned.get_data(as_text=True)
    assert "区税务局尚无在用的联络员账号" in html and "区金融发展服务中心尚无" not in html
    assert reload(case).mode is None and not reload(case).assignments
    confirmed = client.post(f"/console/cases/{case.id}/joint",
                            data={**form, "confirm_no_liaison": "1"})
    assert confirmed.status_code == 303
    assert {a.department_id for a in reload(case).assignments} == {lead, tax}


def test_escalate_and_decide(client: Any, accounts: Accounts, sign_in: Any, window_case: Any,
                             clock: Any) -> None:
    case = window_case()
    sign_in(accounts.supervisor)
    client.post(f"/console/cases/{case.id}/escalate", data={"analysis": "涉及多部门土地问题"})
    assert reload(case).status == Status.ESCALATED
    deadline = (clock() + timedelta(days=20)).date().isoformat()
    form = {"decision": "由区自然资源规划分局牵头办理", "deadline": deadline,
            "department_ids": [str(department_id(db.session(), "区自然资源规划分局"))]}
    # The unit has no liaison account: asked first, as 流转交办 asks.
    warned = client.post(f"/console/cases/{case.id}/decision", data=form)
    assert warned.status_code == 422
    assert "区自然资源规划分局尚无在用的联络员账号" in warned.get_data(as_text=True)
    assert reload(case).status == Status.ESCALATED
    response = client.post(f"/console/cases/{case.id}/decision",
                           data={**form, "confirm_no_liaison": "1"})
    assert response.status_code == 303
    decided = reload(case)
    assert decided.status == Status.HANDLING and decided.due_date.isoformat() == deadline


def test_review_corrects_details_and_clears_the_mark(
    client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase
) -> None:
    sign_in(accounts.operator)
    case = voicemail_case.case
    response = client.post(f"/console/cases/{case.id}/details", data={
        "description": "企业咨询贷款融资政策", "category": "factor", "subcategory": "finance",
        "contact_name": "张经理", "contact_phone": "13800138000", "enterprise_id": ""})
    assert response.status_code == 303
    reviewed = reload(case)
    assert (reviewed.description, reviewed.subcategory, reviewed.contact_name) == (
        "企业咨询贷款融资政策", "finance", "张经理")
    assert not reviewed.needs_review


def test_new_case_from_the_window_with_a_new_enterprise(client: Any, accounts: Accounts,
                                                        sign_in: Any) -> None:
    sign_in(accounts.operator)
    assert "受理渠道" in page(client, "/console/cases/new")
    response = client.post("/console/cases/new", data={
        "channel": "window", "description": "企业咨询高新技术企业认定", "category": "policy",
        "enterprise_name": "宁波新星科技有限公司", "enterprise_uscc": "91110000600037341L",
        "contact_phone": "0574-88888888"})
    assert response.status_code == 303
    case = db.session.scalars(select(Case)).one()
    assert case.channel == "window" and case.enterprise is not None
    assert case.enterprise.uscc == "91110000600037341L"
    bad = client.post("/console/cases/new", data={"channel": "window", "description": ""})
    assert bad.status_code == 422 and "请填写诉求内容" in bad.get_data(as_text=True)


# -- escaping -----------------------------------------------------------------------------------


def test_case_text_is_escaped_everywhere(client: Any, accounts: Accounts, sign_in: Any,
                                         window_case: Any, app: Any, clock: Any) -> None:
    attack = "<script>alert(1)</script>"
    case = window_case(attack, contact_name='"><img src=x onerror=alert(2)>')
    vm = add_voicemail(db.session(), Path(app.config["RECORDINGS_DIR"]), clock(), sid="66",
                       caller="+8613900000066",
                       words=[("<b>", 0.0, 0.5, 0.2), ("</p><script>x()</script>", 0.5, 1.0, 0.9)])
    sign_in(accounts.operator)
    for path in ("/console/queue", f"/console/cases/{case.id}", f"/console/cases/{vm.case.id}",
                 f"/console/calls/{vm.recording.call_id}"):
        html = page(client, path)
        assert "<script>alert" not in html and "<script>x()" not in html
        assert "<b>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page(client, f"/console/cases/{case.id}")


# -- call log -----------------------------------------------------------------------------------


def test_call_log_and_call_detail_with_the_ivr_path(
    client: Any, accounts: Accounts, sign_in: Any, phone: Any, clock: Any, voicemail_wav: Path
) -> None:
    clock.set_local("2026-11-27 03:00")
    outcome = phone.call(keys=["2"], voicemail=voicemail_wav)
    phone.call(from_number="+8613911112222", keys=[])
    sign_in(accounts.operator)
    listing = page(client, "/console/calls")
    assert "+8613800138000" in listing and "+8613911112222" in listing
    only_voicemail = page(client, "/console/calls?voicemail=1")
    assert "+8613800138000" in only_voicemail and "+8613911112222" not in only_voicemail
    by_caller = page(client, "/console/calls?caller=13911112222")
    assert "+8613911112222" in by_caller and "+8613800138000" not in by_caller
    assert "+8613800138000" not in page(client, "/console/calls?from=2026-11-28")
    from ivr.models import Call

    call = db.session.scalars(select(Call).where(Call.call_sid == outcome.call_sid)).one()
    detail = page(client, f"/console/calls/{call.id}")
    assert "语音导航路径" in detail and "按键" in detail and "留言录音" in detail
    assert 'class="key">2<' in detail
    assert "录音文件尚未下载" in detail  # no worker ran in this test
    case = db.session.scalars(select(Case)).one()
    assert case.number in detail


def test_call_detail_says_each_step_and_the_transfer_in_words(
    client: Any, accounts: Accounts, sign_in: Any, phone: Any, clock: Any
) -> None:
    """Transferred but nobody answered is not “未转人工”; steps read as words, not codes."""
    from ivr.models import Call, CallEvent

    clock.set_local("2026-11-24 10:00")  # a Tuesday, office hours; nobody on duty
    unanswered = phone.call(from_number="+8613911112222", keys=["4"])
    answered = phone.call(from_number="+8613933334444", keys=["4"])
    menu_only = phone.call(from_number="+8613955556666", keys=["7"])
    session = db.session()
    call = session.scalars(select(Call).where(Call.call_sid == answered.call_sid)).one()
    call.reached_operator, call.operator_answer_seconds = True, 12  # as the queue records it
    # An older call that went straight to <Dial>, nobody picked up.
    dialled = Call(call_sid="CA" + "d" * 32, from_number="+8613977778888",
                   started_at=clock(), status="completed")
    session.add(dialled)
    session.flush()
    session.add(CallEvent(call_id=dialled.id, kind="dial", node="operator",
                          detail="no-answer", at=clock()))
    session.commit()
    sign_in(accounts.operator)

    def detail(sid: str) -> str:
        call = db.session.scalars(select(Call).where(Call.call_sid == sid)).one()
        return page(client, f"/console/calls/{call.id}")

    missed = detail(unanswered.call_sid)
    assert "<dt>人工</dt><dd>转人工未接通（无空闲坐席）</dd>" in missed
    assert "未转人工" not in missed and "unavailable" not in missed
    assert "结果：是" in missed and "office_hours" not in missed
    assert "未录到留言" in missed and "nothing recorded" not in missed
    assert ">已结束<" in missed.replace("</span>", "<").replace('class="key">', ">")
    no_answer = detail(dialled.call_sid)
    assert "<dt>人工</dt><dd>转人工未接通（坐席无人接听）</dd>" in no_answer
    assert "no-answer" not in no_answer
    assert "<dt>人工</dt><dd>已接通（12 秒应答）" in detail(answered.call_sid)
    wrong = detail(menu_only.call_sid)
    assert "<dt>人工</dt><dd>未转人工</dd>" in wrong
    assert "第1次输入错误" in wrong and "invalid #1" not in wrong
    listing = page(client, "/console/calls")
    assert "转人工未接通（无空闲坐席）" in listing and "转人工未接通（坐席无人接听）" in listing


# -- recordings ---------------------------------------------------------------------------------


def test_recording_supports_range_requests(client: Any, accounts: Accounts, sign_in: Any,
                                           voicemail_case: VoicemailCase) -> None:
    sign_in(accounts.operator)
    path = f"/console/recordings/{voicemail_case.recording.id}/audio"
    whole = client.get(path)
    assert whole.status_code == 200 and whole.mimetype == "audio/wav"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Cache-Control"] == "private, no-store"
    size = len(whole.data)
    part = client.get(path, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.data == whole.data[100:200]
    tail = client.get(path, headers={"Range": "bytes=-44"})
    assert tail.status_code == 206 and tail.data == whole.data[-44:]
    beyond = client.get(path, headers={"Range": f"bytes={size + 10}-"})
    assert beyond.status_code == 416


def test_missing_audio_file_is_404(client: Any, accounts: Accounts, sign_in: Any,
                                   voicemail_case: VoicemailCase) -> None:
    Path(voicemail_case.recording.local_path or "").unlink()
    sign_in(accounts.operator)
    assert client.get(f"/console/recordings/{voicemail_case.recording.id}/audio"
                      ).status_code == 404


# -- transcript corrections -----------------------------------------------------------------------


def test_word_correction_keeps_the_original_and_updates_the_case(
    client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase
) -> None:
    sign_in(accounts.operator)
    case, transcript = voicemail_case.case, voicemail_case.transcript
    words = {f"word-{i}": w["word"] for i, w in enumerate(transcript.words)}
    back = f"/console/cases/{case.id}"
    response = client.post(f"/console/transcripts/{transcript.id}/correct",
                           data={**words, "word-4": "贷款", "mode": "words", "next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    db.session.expire_all()
    original = db.session.get(Transcript, transcript.id)
    assert original is not None and original.text == "我们公司想咨询带款融资的问题"
    correction = db.session.scalars(select(TranscriptCorrection)).one()
    assert correction.text == "我们公司想咨询贷款融资的问题"
    assert correction.edits == [{"index": 4, "before": "带款", "after": "贷款"}]
    assert correction.words[4]["start"] == 1.4 and correction.words[4]["conf"] == 1.0
    updated = reload(case)
    assert updated.description == "我们公司想咨询贷款融资的问题" and not updated.needs_review
    actions = [e.action for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]
    assert "transcript_corrected" in actions and actions[-1] == "details_updated"
    html = page(client, back)
    assert "已人工更正1次" in html and "“带款”→“贷款”" in html
    assert 'class="w fixed"' in html


def test_free_text_correction_and_errors(client: Any, accounts: Accounts, sign_in: Any,
                                         voicemail_case: VoicemailCase) -> None:
    sign_in(accounts.operator)
    transcript = voicemail_case.transcript
    url = f"/console/transcripts/{transcript.id}/correct"
    unchanged = client.post(url, data={"mode": "text", "text": transcript.text})
    assert unchanged.status_code == 422 and "文本没有变化" in unchanged.get_data(as_text=True)
    ok = client.post(url, data={"mode": "text", "text": "我们公司想咨询贷款融资的问题。"})
    assert ok.status_code == 303
    # After a free-text rewrite there are no word timings to edit.
    words = client.post(url, data={"mode": "words", "word-0": "你们"})
    assert words.status_code == 422
    html = page(client, f"/console/cases/{voicemail_case.case.id}")
    assert "以下为原始识别结果" in html
    assert client.post("/console/transcripts/999/correct", data={"mode": "text", "text": "x"}
                       ).status_code == 404
