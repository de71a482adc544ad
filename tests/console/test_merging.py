"""并单 on the case page: candidates, merge and unlink (roles, CSRF, audit, the SMS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.case_models import Case, CaseEvent, CaseRecording
from core.db import db
from messaging.models import SmsMessage
from tests.console.conftest import Accounts, add_voicemail, csrf_token

PHONE = "13800138000"


def actions(case_id: int) -> list[tuple[str, str, str]]:
    return [(e.action, e.actor_name, e.note) for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


def test_operator_merges_a_console_repeat_and_unlinks_it(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any, app: Any) -> None:
    first = window_case("用电增容一直没人处理", contact_phone=PHONE, category="factor")
    first_id, first_number = first.id, first.number
    sign_in(accounts.operator)
    filed = client.post("/console/cases/new", data={
        "channel": "window", "description": "还是用电增容的问题", "category": "factor",
        "contact_phone": PHONE})
    assert filed.status_code == 303
    later = db.session.scalars(select(Case).where(Case.id != first_id)).one()
    later_id, later_number = later.id, later.number
    page = client.get(f"/console/cases/{later_id}").get_data(as_text=True)
    assert "疑似重复诉求" in page and first_number in page
    assert "疑似重复诉求" not in client.get(f"/console/cases/{first_id}").get_data(as_text=True)

    sign_in(accounts.dept_a)
    assert client.post(f"/console/cases/{later_id}/merge",
                       data={"into_id": first_id, "reason": "重复"}).status_code == 403

    sign_in(accounts.operator)
    empty = client.post(f"/console/cases/{later_id}/merge",
                        data={"into_id": first_id, "reason": ""})
    assert empty.status_code == 422
    merged = client.post(f"/console/cases/{later_id}/merge", data={
        "into_id": first_id, "reason": "同一企业重复反映"})
    assert merged.status_code == 303
    db.session.expire_all()
    later = db.session.get(Case, later_id)
    assert later is not None and (later.status, later.merged_into_id) == ("merged", first_id)
    name = "op-姓名（op）"
    assert actions(later_id)[-1] == ("merged", name, "同一企业重复反映")
    assert actions(first_id)[-1] == ("duplicate_merged", name, "同一企业重复反映")
    sms = db.session.scalars(select(SmsMessage).where(SmsMessage.case_id == later_id)).one()
    assert (sms.kind, sms.params) == ("case_merged",
                                      {"number": later_number, "earlier": first_number})
    page = client.get(f"/console/cases/{later_id}").get_data(as_text=True)
    assert "已并单" in page and "并单（并入此前诉求）" in page and "取消并单理由" in page
    assert later_number in client.get(f"/console/cases/{first_id}").get_data(as_text=True)

    unlinked = client.post(f"/console/cases/{later_id}/unlink", data={
        "reason": "并错了，诉求不同"})
    assert unlinked.status_code == 303
    db.session.expire_all()
    later = db.session.get(Case, later_id)
    assert later is not None and (later.status, later.merged_into_id) == ("received", None)
    assert actions(later_id)[-1] == ("unlinked", name, "并错了，诉求不同")
    assert actions(first_id)[-1] == ("duplicate_unlinked", name, "并错了，诉求不同")


def test_a_case_that_is_no_candidate_cannot_be_merged_into(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any) -> None:
    other = window_case("咨询人才政策", contact_phone=PHONE, category="policy")
    later = window_case("用电增容", contact_phone=PHONE, category="factor")
    other_id, later_id = other.id, later.id
    sign_in(accounts.supervisor)
    refused = client.post(f"/console/cases/{later_id}/merge",
                          data={"into_id": other_id, "reason": "重复"})
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Case, later_id).status == "received"  # type: ignore[union-attr]


def test_merging_needs_the_csrf_token(client: Any, accounts: Accounts, sign_in: Any,
                                      window_case: Any, app: Any) -> None:
    first = window_case("用电增容一直没人处理", contact_phone=PHONE, category="factor")
    later = window_case("还是用电增容", contact_phone=PHONE, category="factor")
    first_id, later_id = first.id, later.id
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(accounts.operator)
    form = {"into_id": first_id, "reason": "同一企业重复反映"}
    assert client.post(f"/console/cases/{later_id}/merge", data=form).status_code == 400
    token = csrf_token(client, f"/console/cases/{later_id}")
    assert client.post(f"/console/cases/{later_id}/merge",
                       data={**form, "csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, later_id).status == "merged"  # type: ignore[union-attr]


def test_a_linked_voicemail_is_split_into_its_own_case(
        client: Any, accounts: Accounts, sign_in: Any, app: Any, clock: Any) -> None:
    recordings = Path(app.config["RECORDINGS_DIR"])
    first = add_voicemail(db.session(), recordings, clock(), sid="71")
    again = add_voicemail(db.session(), recordings, clock(), sid="72")
    case_id, case_number = first.case.id, first.case.number
    assert again.case.id == case_id  # linked automatically (same caller, same category)
    link = db.session.scalars(select(CaseRecording).where(
        CaseRecording.recording_id == again.recording.id)).one()
    link_id, recording_id = link.id, again.recording.id
    sign_in(accounts.operator)
    assert "并入本件的重复留言" in client.get(f"/console/cases/{case_id}").get_data(as_text=True)
    url = f"/console/cases/{case_id}/voicemails/{link_id}/unlink"
    assert client.post(url, data={"reason": ""}).status_code == 422
    sign_in(accounts.dept_a)
    assert client.post(url, data={"reason": "不同诉求"}).status_code in (403, 404)
    sign_in(accounts.operator)
    done = client.post(url, data={"reason": "两次留言反映的不是同一件事"})
    assert done.status_code == 303
    db.session.expire_all()
    split = db.session.scalars(select(Case).where(Case.recording_id == recording_id)).one()
    assert done.headers["Location"].endswith(f"/console/cases/{split.id}")
    assert (split.channel, split.status, split.contact_phone, split.needs_review) == (
        "hotline_voicemail", "received", first.case.contact_phone, True)
    moved = db.session.get(CaseRecording, link_id)
    assert moved is not None and (moved.case_id, moved.duplicate) == (split.id, False)
    name = "op-姓名（op）"
    assert actions(case_id)[-1] == ("voicemail_unlinked", name, "两次留言反映的不是同一件事")
    assert actions(split.id)[-1] == ("split_from", name, "两次留言反映的不是同一件事")
    assert db.session.scalars(select(SmsMessage.kind).where(
        SmsMessage.case_id == split.id)).all() == ["voicemail_filed"]
    assert case_number != split.number
    assert "并入本件的重复留言" not in client.get(
        f"/console/cases/{case_id}").get_data(as_text=True)
