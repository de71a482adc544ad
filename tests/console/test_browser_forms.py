"""Every console form, in a real browser, posted with one invalid field: nothing typed is lost.

For each form the browser fills every field, makes one invalid (server-side rule: the
browser's own checks are switched off, ``noValidate`` and ``maxlength`` removed, as a person
with an old browser or a pasted text would get past them), submits, and then checks on the
page the server answered with: the error is next to its field in Chinese, every other value
is still there as typed (passwords excepted: never sent back), the banner names no code.

Forms with nothing a person can get wrong are listed in ``NOTHING_TO_GET_WRONG``; the test
checks that list and the specs together cover every POST form of the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.models import Department
from console.models import User
from core.db import db
from extraction.models import FieldSuggestion
from ivr.models import Call
from tests.conftest import write_tone_wav
from tests.console.conftest import DEPT_A, DEPT_B, Accounts
from tests.console.test_browser import (  # noqa: F401  (fixtures and the skip mark)
    Desk,
    live_config,
    live_server,
    pytestmark,
)
from tests.console.test_no_codes_shown import codes_in
from tests.console.world import World, build_world
from transcription.models import Transcript

LONG = "企" * 5001  # over every 5000-character text limit

# Forms with no field a person can get wrong (a button, a confirmation, a free text with no
# rule), by endpoint; every other POST form has a spec below.
NOTHING_TO_GET_WRONG = {
    "console.logout", "console.login",  # the sign-in form is tested with its throttle
    "console.extension_approve", "console.recording_retry", "console.notification_read",
    "console.notifications_read_all", "console.kb_synonyms", "console.reports_refresh",
    "console.reports_bulletin_editorial", "console.reports_bulletin_issue",
    "console.reports_typical_remove", "console.admin_department_active",
    "console.reports_bulletin_create",  # a month picker; an existing month is not a typo
    "console.admin_calendar_delete", "console.assignment_accept",
    "console.case_unlink", "console.voicemail_unlink",  # same rule as case_merge's reason
    "console.admin_user_unlock",
}
# The operator desk's forms (call queue): they answer an error with a redirect (and a flash)
# for now, losing a typed device or wrap-up note; left to the desk's owner to convert.
DESK_FORMS = {"console.desk_presence", "console.desk_settings", "console.desk_wrapup",
              "console.desk_close_callback"}


@dataclass
class Field:
    kind: str  # text, select, check, radio, none (nothing chosen), password
    name: str
    value: str = ""


@dataclass
class FormSpec:
    endpoint: str
    role: str
    page: str
    action: str
    invalid: Field
    error: str
    fields: list[Field] = field(default_factory=list)
    # A selector to tell the form apart from others posting to the same address.
    has: str = ""
    # The button to press, when the form has several.
    submit: str = ""


def _ids(world: World) -> dict[str, Any]:
    session = db.session()
    units = dict(session.execute(select(Department.name, Department.id)).tuples().all())
    calls = {c.call_sid: c.id for c in session.scalars(select(Call))}
    cases = {name: world.case_id(name) for name in world.cases}
    assignment = {name: world.cases[name].assignments[-1].id
                  for name in ("routed", "extension")}
    voicemail = world.cases["voicemail"]
    transcript = session.scalars(select(Transcript).where(
        Transcript.recording_id == voicemail.recording_id)).one()
    liaison = session.scalars(select(User).where(User.username == "dept-a")).one()
    suggestion = session.scalars(select(FieldSuggestion).where(
        FieldSuggestion.case_id == voicemail.id, FieldSuggestion.status == "pending",
        FieldSuggestion.value == "13957410003")).first()
    assert suggestion is not None
    return {"units": units, "call": calls[world.calls["operator"]], "cases": cases,
            "assignment": assignment, "transcript": transcript.id, "liaison": liaison.id,
            "suggestion": suggestion.id}


def specs(world: World) -> list[FormSpec]:
    ids = _ids(world)
    unit, case, asg = ids["units"], ids["cases"], ids["assignment"]
    published = world.articles["published"]
    return [
        FormSpec("console.case_create", "operator", "/console/cases/new", "/console/cases/new",
                 Field("text", "contact_phone", "12345"), "电话号码",
                 [Field("select", "channel", "window"), Field("select", "category", "factor"),
                  Field("select", "subcategory", "utilities"),
                  Field("text", "enterprise_name", "宁波新材料科技有限公司"),
                  Field("text", "contact_name", "张经理"),
                  Field("text", "description", "新厂房需要接入天然气管道，\n希望了解办理流程。")]),
        FormSpec("console.case_review", "operator", f"/console/cases/{case['voicemail']}",
                 f"/console/cases/{case['voicemail']}/details",
                 Field("text", "contact_phone", "999"), "电话号码",
                 [Field("text", "description", "我们公司想咨询贷款融资的问题"),
                  Field("select", "category", "factor"),
                  Field("select", "subcategory", "finance"),
                  Field("text", "contact_name", "赵会计")]),
        FormSpec("console.case_answer", "operator", f"/console/cases/{case['window']}",
                 f"/console/cases/{case['window']}/answer",
                 Field("text", "text", LONG), "答复内容不能超过5000字"),
        FormSpec("console.case_route", "operator", f"/console/cases/{case['window']}",
                 f"/console/cases/{case['window']}/route",
                 Field("select", "department_id", str(unit["区税务局"])), "尚无在用的联络员账号",
                 [Field("text", "note", "请两日内答复")]),
        FormSpec("console.case_reroute", "operator", f"/console/cases/{case['returned']}",
                 f"/console/cases/{case['returned']}/reroute",
                 Field("select", "department_id", str(unit["区税务局"])), "尚无在用的联络员账号",
                 [Field("text", "reason", "改由税务部门办理")]),
        FormSpec("console.case_rating", "operator", f"/console/cases/{case['answered']}",
                 f"/console/cases/{case['answered']}/rating",
                 Field("none", "score"), "请选择满意度",
                 [Field("text", "comment", "态度很好，但希望更快")]),
        FormSpec("console.case_merge", "operator", f"/console/cases/{case['repeat']}",
                 f"/console/cases/{case['repeat']}/merge",
                 Field("text", "reason", ""), "请填写理由",
                 [Field("radio", "into_id", str(case["routed"]))]),
        FormSpec("console.case_answer_kb", "operator",
                 f"/console/cases/{case['returned']}?cite={published}",
                 f"/console/cases/{case['returned']}/answer-kb?cite={published}",
                 Field("text", "text", ""), "请填写答复内容"),
        FormSpec("console.extension_reject", "operator", f"/console/cases/{case['extension']}",
                 f"/console/assignments/{asg['extension']}/extension/reject",
                 Field("text", "reason", ""), "请填写不予延期的理由"),
        FormSpec("console.case_suggestion", "operator", f"/console/cases/{case['voicemail']}",
                 f"/console/cases/{case['voicemail']}/suggestions/{ids['suggestion']}",
                 Field("text", "value", "1395741"), "电话号码", submit="按修改保存"),
        FormSpec("console.call_file_case", "operator", f"/console/calls/{ids['call']}",
                 f"/console/calls/{ids['call']}/case",
                 Field("text", "contact_phone", "12"), "电话号码",
                 [Field("text", "description", "企业咨询用工补贴"),
                  Field("text", "enterprise_name", "宁波甬江精密机械有限公司"),
                  Field("text", "contact_name", "王经理")]),
        FormSpec("console.transcript_correct", "operator", f"/console/cases/{case['voicemail']}",
                 f"/console/transcripts/{ids['transcript']}/correct",
                 Field("text", "text", LONG), "转写文本不能超过5000字",
                 has="input[name=mode][value=text]"),
        FormSpec("console.followup_unreachable", "operator", "/console/followups",
                 "/console/followups/", Field("text", "reason_other", "联系不上" * 51),
                 "回访未果的原因不能超过200字", [Field("select", "reason", "号码停机或空号")]),
        FormSpec("console.enterprise_create", "operator", "/console/enterprises",
                 "/console/enterprises", Field("text", "uscc", "12345"), "统一社会信用代码",
                 [Field("text", "name", "宁波示例电子有限公司"), Field("text", "town", "岳林街道"),
                  Field("text", "contact_name", "陈经理"),
                  Field("text", "phones", "13957410009")]),
        FormSpec("console.assignment_reply", "department", f"/console/cases/{case['routed']}",
                 f"/console/assignments/{asg['routed']}/reply",
                 Field("text", "policy_basis", ""), "解释说明须注明所依据的政策",
                 [Field("radio", "kind", "explanation"),
                  Field("text", "text", "经核实，该项贴息需满足营收条件，\n贵企业暂不符合。")]),
        FormSpec("console.assignment_progress", "department", f"/console/cases/{case['routed']}",
                 f"/console/assignments/{asg['routed']}/progress",
                 Field("text", "text", LONG), "办理进度不能超过5000字"),
        FormSpec("console.assignment_extension", "department",
                 f"/console/cases/{case['routed']}",
                 f"/console/assignments/{asg['routed']}/extension",
                 Field("text", "new_due", "2026-12-08"), "延期后的期限应晚于原办理期限",
                 [Field("text", "reason", "需现场核实"),
                  Field("check", "agreed_with_enterprise", "1")]),
        FormSpec("console.assignment_return", "department", f"/console/cases/{case['routed']}",
                 f"/console/assignments/{asg['routed']}/return",
                 Field("text", "reason", ""), "请填写退单理由"),
        FormSpec("console.case_joint", "supervisor", f"/console/cases/{case['window']}",
                 f"/console/cases/{case['window']}/joint",
                 Field("text", "meeting_at", "2026-12-01T10:00"), "商办会时间不能早于今天",
                 [Field("select", "lead_department_id", str(unit[DEPT_B])),
                  Field("check", "department_ids", str(unit[DEPT_A]))]),
        FormSpec("console.case_escalate", "supervisor", f"/console/cases/{case['window']}",
                 f"/console/cases/{case['window']}/escalate",
                 Field("text", "analysis", LONG), "研判意见不能超过5000字"),
        FormSpec("console.case_decision", "supervisor", f"/console/cases/{case['escalated']}",
                 f"/console/cases/{case['escalated']}/decision",
                 Field("text", "deadline", "2026-12-01"), "办结时限不能早于今天",
                 [Field("text", "decided_by", "分管副区长"),
                  Field("text", "decided_at", "2026-12-08T09:00"),
                  Field("text", "decision", "由区经信局牵头办理"),
                  Field("check", "department_ids", str(unit[DEPT_B]))]),
        FormSpec("console.case_meeting", "supervisor", f"/console/cases/{case['joint']}",
                 f"/console/cases/{case['joint']}/meeting",
                 Field("text", "held_at", "2026-12-20T10:00"), "商办会时间不能晚于当前时间",
                 [Field("text", "attendees", "区金融发展服务中心、区经信局"),
                  Field("text", "minutes", "明确牵头单位")]),
        FormSpec("console.reports_typical_mark", "supervisor", "/console/reports/bulletins",
                 "/console/reports/typical", Field("text", "number", "999999"),
                 "诉求编号不存在", [Field("text", "note", "典型：协调银行续贷")]),
        FormSpec("console.kb_transition", "supervisor",
                 f"/console/kb/{world.articles['review']}",
                 f"/console/kb/{world.articles['review']}/state",
                 Field("text", "note", ""), "请填写退回修改的理由",
                 has="input[name=action][value=returned]"),
        FormSpec("console.admin_user_create", "admin", "/console/admin/users",
                 "/console/admin/users", Field("text", "phone", "123"), "手机号码格式不正确",
                 [Field("text", "username", "newuser"), Field("text", "display_name", "新同事"),
                  Field("select", "role", "department"),
                  Field("select", "department_id", str(unit[DEPT_A])),
                  Field("password", "password", "Str0ng-passw0rd-x")]),
        FormSpec("console.admin_user_update", "admin", "/console/admin/users",
                 f"/console/admin/users/{ids['liaison']}",
                 Field("select", "department_id", ""), "承办单位联络员须指定所属单位",
                 [Field("text", "display_name", "改了名字"), Field("text", "phone", "13957410008"),
                  Field("check", "active", "1")]),
        FormSpec("console.admin_department_create", "admin", "/console/admin/departments",
                 "/console/admin/departments", Field("text", "name", DEPT_B), "该单位已存在",
                 [Field("select", "kind", "street"), Field("check", "task_force", "1")]),
        FormSpec("console.admin_calendar_set", "admin", "/console/admin/calendar",
                 "/console/admin/calendar", Field("text", "day", ""), "请填写日期",
                 [Field("radio", "working", "1"), Field("text", "note", "调休上班")]),
        FormSpec("console.kb_new", "admin", "/console/kb/new", "/console/kb/new",
                 Field("text", "source_url", "ftp://example.test/x"), "政策链接应以",
                 [Field("text", "title", "新建条目"), Field("text", "questions", "问法一\n问法二"),
                  Field("text", "answer", "答复第一段。\n\n- 要点"),
                  Field("text", "spoken_answer", "电话里这样说。"),
                  Field("select", "category", "factor"),
                  Field("text", "source_document", "奉政办发〔2021〕35号"),
                  Field("text", "valid_from", "2026-12-10")]),
        FormSpec("console.kb_edit", "admin", f"/console/kb/{published}/edit",
                 f"/console/kb/{published}/edit",
                 Field("text", "valid_until", "2026-12-01"), "失效日期不能早于生效日期",
                 [Field("text", "title", "改过的标题"), Field("text", "valid_from", "2026-12-10"),
                  Field("text", "note", "更新有效期")]),
        FormSpec("console.kb_phone_menu", "admin", "/console/kb/settings",
                 "/console/kb/settings/phone", Field("text", f"order_{published}", "第一"),
                 "顺序应为数字"),
    ]


def _form(page: Any, spec: FormSpec) -> Any:
    # An action ending in "/" names a family of forms (one per row): the first one.
    match = "^=" if spec.action.endswith("/") else "="
    found = page.locator(f'form[method="post"][action{match}"{spec.action}"]')
    if spec.has:
        found = found.filter(has=page.locator(spec.has))
    assert found.count() >= 1, f"{spec.endpoint}: no form posting to {spec.action}"
    return found.first


def _fill(form: Any, item: Field) -> None:
    target = form.locator(f'[name="{item.name}"]')
    if item.kind in ("text", "password"):
        target.first.fill(item.value)
    elif item.kind == "select":
        target.first.select_option(item.value)
    elif item.kind in ("check", "radio"):
        form.locator(f'[name="{item.name}"][value="{item.value}"]').check()
    elif item.kind == "none":
        form.evaluate("(f, name) => f.querySelectorAll(`[name=\"${name}\"]`)"
                      ".forEach(i => { i.checked = false; })", item.name)


def _survived(form: Any, item: Field) -> Any:
    if item.kind in ("check", "radio"):
        return form.locator(f'[name="{item.name}"][value="{item.value}"]').is_checked()
    if item.kind == "none":
        return not any(box.is_checked() for box in form.locator(f'[name="{item.name}"]').all())
    return form.locator(f'[name="{item.name}"]').first.input_value()


def _expected(item: Field) -> Any:
    if item.kind in ("check", "radio", "none"):
        return True
    return "" if item.kind == "password" else item.value


@pytest.fixture
def world(app: Any, clock: Any, accounts: Accounts, tmp_path: Path) -> World:
    from ivr.phone import InProcessTransport, TerminalPhone
    from tests.conftest import AUTH_TOKEN

    # Signed for the live server's public URL (the shared ``phone`` signs for another).
    phone = TerminalPhone(transport=InProcessTransport(app),
                          base_url=app.config["PUBLIC_BASE_URL"], auth_token=AUTH_TOKEN,
                          account_sid=app.config["TWILIO_ACCOUNT_SID"], echo=lambda _l: None)
    return build_world(app, clock, phone, write_tone_wav(tmp_path / "message.wav"))


def uncovered(app: Any, every: list[FormSpec]) -> list[str]:
    """What is wrong with the specs and NOTHING_TO_GET_WRONG as a list of every POST form."""
    from console.views import ROUTE_ROLES

    posting = {rule.endpoint for rule in app.url_map.iter_rules()
               if "POST" in (rule.methods or ()) and rule.endpoint in ROUTE_ROLES}
    covered = {spec.endpoint for spec in every}
    missing = posting - covered - NOTHING_TO_GET_WRONG - DESK_FORMS
    both = covered & NOTHING_TO_GET_WRONG
    return [*(f"{name}: a POST form with no spec" for name in sorted(missing)),
            *(f"{name}: has a spec and is in NOTHING_TO_GET_WRONG" for name in sorted(both))]


def test_every_form_keeps_what_was_typed_after_an_error(
        live_server: str, browser: Any, app: Any, accounts: Accounts,  # noqa: F811
        world: World) -> None:
    from playwright.sync_api import expect

    usernames = {"op", "dept-a", "dept-b", "sup", "adm"}
    desks: dict[str, Desk] = {}
    every = specs(world)
    # Every console form is covered (checked here: the specs need the world this test builds).
    problems = uncovered(app, every)
    for spec in every:
        desk = desks.get(spec.role)
        if desk is None:
            desk = desks[spec.role] = Desk(browser, live_server)
            desk.enter(accounts.by_role(spec.role), spec.page)
        else:
            desk.go(spec.page)
        page = desk.page
        before = len(problems)
        form = _form(page, spec)
        # Past the browser's own checks: the server's rules are what is tested.
        form.evaluate("""f => {
            f.noValidate = true;
            for (let d = f.closest('details'); d; d = d.parentElement.closest('details')) {
                d.open = true;
            }
            f.querySelectorAll('[maxlength]').forEach(i => i.removeAttribute('maxlength'));
            f.querySelectorAll('[required]').forEach(i => i.removeAttribute('required'));
        }""")
        for item in [*spec.fields, spec.invalid]:
            _fill(form, item)
        button = (form.get_by_role("button", name=spec.submit) if spec.submit
                  else form.locator("button[type=submit]").first)
        with page.expect_navigation():
            button.click()
        expect(page.locator(".flash-error")).to_be_visible()
        form = _form(page, spec)
        errors = form.locator(".field-error").all_inner_texts()
        if not any(spec.error in text for text in errors):
            problems.append(f"{spec.endpoint}: no “{spec.error}” next to a field "
                            f"(found {errors})")
        for item in [*spec.fields, spec.invalid]:
            value, wanted = _survived(form, item), _expected(item)
            if value != wanted:
                problems.append(f"{spec.endpoint}: {item.name} is {str(value)[:40]!r}, "
                                f"typed {str(wanted)[:40]!r}")
        shown = codes_in(page.inner_text("main"), usernames)
        if shown:
            problems.append(f"{spec.endpoint}: code names shown {shown}")
        if len(problems) > before:  # a picture of what went wrong (none of these is in docs)
            desk.shot(f"form-error-{spec.endpoint.removeprefix('console.')}")
    for desk in desks.values():
        desk.close()
    assert not problems, "\n".join(problems)
