"""Who may open what: every console route against every role, and department scoping."""

from __future__ import annotations

from typing import Any

import pytest

from cases.case_models import Case
from console.views import ROUTE_ROLES
from tests.console.conftest import Accounts, VoicemailCase

C, D, S, A = "operator", "department", "supervisor", "admin"
CENTRE = {C, S, A}
ALL = {C, D, S, A}

# (method, path, roles allowed in). Ids that do not exist are fine: refusals come first.
ROUTES: list[tuple[str, str, set[str]]] = [
    ("GET", "/console/", ALL),
    ("POST", "/console/logout", ALL),
    ("GET", "/console/queue", CENTRE),
    ("GET", "/console/cases/new", CENTRE),
    ("POST", "/console/cases/new", CENTRE),
    ("GET", "/console/followups", CENTRE),
    ("POST", "/console/followups/1/unreachable", CENTRE),
    ("GET", "/console/cases/1", ALL),
    ("POST", "/console/cases/1/details", CENTRE),
    ("POST", "/console/cases/1/suggestions/1", CENTRE),
    ("POST", "/console/cases/1/answer", CENTRE),
    ("POST", "/console/cases/1/route", CENTRE),
    ("POST", "/console/cases/1/reroute", CENTRE),
    ("POST", "/console/cases/1/joint", {S, A}),
    ("POST", "/console/cases/1/meeting", {S, A}),
    ("POST", "/console/cases/1/escalate", {S, A}),
    ("POST", "/console/cases/1/decision", {S, A}),
    ("POST", "/console/cases/1/rating", CENTRE),
    ("POST", "/console/cases/1/merge", CENTRE),
    ("POST", "/console/cases/1/unlink", CENTRE),
    ("POST", "/console/cases/1/voicemails/1/unlink", CENTRE),
    ("POST", "/console/assignments/1/extension/approve", CENTRE),
    ("POST", "/console/assignments/1/extension/reject", CENTRE),
    ("POST", "/console/assignments/1/accept", {D}),
    ("POST", "/console/assignments/1/return", {D}),
    ("POST", "/console/assignments/1/reply", {D}),
    ("POST", "/console/assignments/1/progress", {D}),
    ("POST", "/console/assignments/1/extension", {D}),
    ("GET", "/console/calls", CENTRE),
    ("GET", "/console/calls/1", CENTRE),
    ("POST", "/console/calls/1/case", CENTRE),
    ("GET", "/console/calls/1/live", CENTRE),
    ("GET", "/console/calls/dead-letters", CENTRE),
    ("GET", "/console/recordings/1/audio", ALL),
    ("POST", "/console/transcripts/1/correct", CENTRE),
    ("POST", "/console/recordings/1/retry", CENTRE),
    ("GET", "/console/enterprises/search", CENTRE),
    ("GET", "/console/enterprises", CENTRE),
    ("POST", "/console/enterprises", CENTRE),
    ("GET", "/console/enterprises/1", CENTRE),
    ("GET", "/console/department", {D}),
    ("GET", "/console/notifications", {D, S, A}),
    ("POST", "/console/notifications/1/read", {D, S, A}),
    ("POST", "/console/notifications/read-all", {D, S, A}),
    ("GET", "/console/supervisor", {S, A}),
    ("GET", "/console/supervisor/cases", {S, A}),
    ("GET", "/console/supervisor/hanging", {S, A}),
    ("GET", "/console/admin/users", {A}),
    ("POST", "/console/admin/users", {A}),
    ("POST", "/console/admin/users/1", {A}),
    ("POST", "/console/admin/users/1/unlock", {A}),
    ("GET", "/console/admin/departments", {A}),
    ("POST", "/console/admin/departments", {A}),
    ("POST", "/console/admin/departments/1/active", {A}),
    ("GET", "/console/admin/calendar", {A}),
    ("POST", "/console/admin/calendar", {A}),
    ("POST", "/console/admin/calendar/delete", {A}),
    ("GET", "/console/admin/flows", {A}),
    ("GET", "/console/reports", {D, S, A}),
    ("POST", "/console/reports/refresh", {S, A}),
    ("GET", "/console/reports/chart/trend.png", {D, S, A}),
    ("GET", "/console/reports/cases", {D, S, A}),
    ("GET", "/console/reports/ledger.xlsx", {D, S, A}),
    ("GET", "/console/reports/accountability", {D, S, A}),
    ("GET", "/console/reports/hot-topics", {D, S, A}),
    ("GET", "/console/reports/topic", {D, S, A}),
    ("GET", "/console/reports/assessment.xlsx", {S, A}),
    ("GET", "/console/reports/bulletins", {S, A}),
    ("POST", "/console/reports/bulletins", {S, A}),
    ("GET", "/console/reports/bulletins/1/document", {S, A}),
    ("GET", "/console/reports/bulletins/1/document.pdf", {S, A}),
    ("POST", "/console/reports/bulletins/1/editorial", {S, A}),
    ("POST", "/console/reports/bulletins/1/issue", {S, A}),
    ("POST", "/console/reports/typical", {S, A}),
    ("POST", "/console/reports/typical/1/remove", {S, A}),
    ("GET", "/console/kb", ALL),
    ("GET", "/console/kb/new", ALL),
    ("POST", "/console/kb/new", ALL),
    ("GET", "/console/kb/1", ALL),
    ("GET", "/console/kb/1/edit", ALL),
    ("POST", "/console/kb/1/edit", ALL),
    ("POST", "/console/kb/1/state", ALL),
    ("GET", "/console/kb/review", {S, A}),
    ("GET", "/console/kb/settings", {A}),
    ("POST", "/console/kb/settings/synonyms", {A}),
    ("POST", "/console/kb/settings/phone", {A}),
    ("POST", "/console/cases/1/answer-kb", CENTRE),
    ("GET", "/console/desk", CENTRE),
    ("POST", "/console/desk/presence", CENTRE),
    ("POST", "/console/desk/settings", CENTRE),
    ("GET", "/console/desk/pop/1", CENTRE),
    ("GET", "/console/desk/calls/1/case", CENTRE),
    ("GET", "/console/desk/calls/1/stream", CENTRE),
    ("POST", "/console/desk/wrapup", CENTRE),
    ("POST", "/console/desk/callbacks/1/close", CENTRE),
    ("GET", "/console/desk/stream", CENTRE),
    ("GET", "/console/softphone/token", CENTRE),
    ("GET", "/console/live", CENTRE),
    ("GET", "/console/live/data", CENTRE),
    ("GET", "/console/live/stream", CENTRE),
    ("GET", "/console/reports/queue", {S, A}),
    ("GET", "/console/reports/queue/heatmap.png", {S, A}),
]


def test_the_table_covers_every_console_route(app: Any) -> None:
    declared = {(m, r.rule) for r in app.url_map.iter_rules() if r.endpoint in ROUTE_ROLES
                for m in r.methods - {"HEAD", "OPTIONS"}}
    table = set()
    for method, path, roles in ROUTES:
        adapter = app.url_map.bind("localhost")
        endpoint, _args = adapter.match(path, method=method)
        assert ROUTE_ROLES[endpoint] == roles, f"{method} {path}"
        rule = next(r.rule for r in app.url_map.iter_rules(endpoint)
                    if method in r.methods)
        table.add((method, rule))
    assert declared == table


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES,
                         ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_roles_outside_the_route_are_refused(client: Any, accounts: Accounts, sign_in: Any,
                                             method: str, path: str, allowed: set[str]) -> None:
    sign_in(None)
    anonymous = client.open(path, method=method)
    if method == "GET":
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].startswith("/console/login?next=")
    else:
        assert anonymous.status_code == 401
    for role in sorted(ALL - allowed):
        sign_in(accounts.by_role(role))
        response = client.open(path, method=method)
        assert response.status_code == 403, role
        assert "无权访问" in response.get_data(as_text=True)


def test_login_page_is_open_and_static_files_too(client: Any) -> None:
    assert client.get("/console/login").status_code == 200
    assert client.get("/console/static/console.css").status_code == 200


def test_other_departments_case_is_404(client: Any, accounts: Accounts, sign_in: Any,
                                       routed_case: Case) -> None:
    sign_in(accounts.dept_a)
    assert client.get(f"/console/cases/{routed_case.id}").status_code == 200
    sign_in(accounts.dept_b)
    assert client.get(f"/console/cases/{routed_case.id}").status_code == 404
    assignment_id = routed_case.assignments[0].id
    for action in ("accept", "reply", "return", "extension"):
        response = client.post(f"/console/assignments/{assignment_id}/{action}",
                               data={"text": "x", "reason": "x"})
        assert response.status_code == 404, action


def test_unrouted_case_is_404_for_every_department(client: Any, accounts: Accounts,
                                                   sign_in: Any, window_case: Any) -> None:
    case = window_case()
    sign_in(accounts.dept_a)
    assert client.get(f"/console/cases/{case.id}").status_code == 404


def test_recording_is_404_for_a_department_without_its_case(
    client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase
) -> None:
    path = f"/console/recordings/{voicemail_case.recording.id}/audio"
    sign_in(accounts.dept_a)
    assert client.get(path).status_code == 404
    sign_in(accounts.operator)
    assert client.get(path).status_code == 200


def test_recording_is_heard_by_the_department_it_was_routed_to(
    client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase
) -> None:
    sign_in(accounts.operator)
    department = accounts.dept_a.department_id
    client.post(f"/console/cases/{voicemail_case.case.id}/route",
                data={"department_id": str(department)})
    sign_in(accounts.dept_a)
    assert client.get(f"/console/recordings/{voicemail_case.recording.id}/audio"
                      ).status_code == 200
    sign_in(accounts.dept_b)
    assert client.get(f"/console/recordings/{voicemail_case.recording.id}/audio"
                      ).status_code == 404


def test_disabled_account_is_signed_out(client: Any, accounts: Accounts, sign_in: Any) -> None:
    from core.db import db

    sign_in(accounts.operator)
    assert client.get("/console/queue").status_code == 200
    accounts.operator.active = False
    db.session.commit()
    assert client.get("/console/queue").status_code == 302
