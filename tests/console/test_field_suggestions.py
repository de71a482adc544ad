"""The case page shows the fields read from a voicemail; the operator decides on each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.case_models import Case
from cases.voicemail import transcript_ready
from core.db import db
from extraction.models import FieldSuggestion
from tests.console.conftest import add_voicemail

WORDS = [("喂", 0.0, 0.3, 0.9), ("我", 0.3, 0.5, 0.9), ("是", 0.5, 0.7, 0.9),
         ("陈", 0.7, 0.9, 0.9), ("经理", 0.9, 1.3, 0.9), ("电话", 1.3, 1.7, 0.9),
         ("幺三八", 1.7, 2.3, 0.8), ("零零幺三", 2.3, 2.9, 0.8), ("八零零幺", 2.9, 3.5, 0.8)]


def voicemail(app: Any, clock: Any) -> Case:
    item = add_voicemail(db.session(), Path(app.config["RECORDINGS_DIR"]), clock(),
                         words=WORDS)
    session = db.session()
    transcript_ready(session, item.recording.id, item.transcript.text, 0.88, now=clock())
    session.commit()
    return item.case


def test_suggestions_show_with_evidence_that_seeks_and_a_confidence(
        app: Any, client: Any, clock: Any, accounts: Any, sign_in: Any) -> None:
    case = voicemail(app, clock)
    sign_in(accounts.operator)
    page = client.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert "字段建议" in page and "陈经理" in page and "13800138001" in page
    seek = re.search(r'data-seek="([\d.]+)" data-recording="(\d+)"[^>]*>“幺三八零零幺三八零零幺”',
                     page)
    assert seek is not None and seek.group(1) == "1.7"  # where 幺三八 starts
    assert f'data-player data-recording="{seek.group(2)}"' in page  # the audio it seeks
    assert re.search(r'class="confidence"[^>]*>\d+%', page)
    sign_in(accounts.dept_a)
    assert "字段建议" not in client.get(f"/console/cases/{case.id}").get_data(as_text=True)


def test_accept_edit_reject_from_the_page(app: Any, client: Any, clock: Any, accounts: Any,
                                          sign_in: Any) -> None:
    case = voicemail(app, clock)
    rows = {r.field: r.id for r in db.session.scalars(select(FieldSuggestion))}
    sign_in(accounts.operator)
    url = f"/console/cases/{case.id}/suggestions"
    assert client.post(f"{url}/{rows['phone']}", data={"decision": "accepted"}).status_code == 303
    edited = client.post(f"{url}/{rows['contact']}",
                         data={"decision": "edited", "value": "陈国强"})
    assert edited.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert (saved.contact_name, saved.contact_phone) == ("陈国强", "+8613800138001")
    # Decided once; a second answer is refused with the reason, on the page.
    again = client.post(f"{url}/{rows['phone']}", data={"decision": "rejected"})
    assert again.status_code == 422 and "该建议已处理" in again.get_data(as_text=True)
    assert client.post(f"/console/cases/{case.id + 1}/suggestions/{rows['phone']}",
                       data={"decision": "rejected"}).status_code == 404


def test_the_acceptance_rate_is_a_figure_of_the_reports_page(
        app: Any, client: Any, clock: Any, accounts: Any, sign_in: Any) -> None:
    case = voicemail(app, clock)
    rows = {r.field: r.id for r in db.session.scalars(select(FieldSuggestion))}
    sign_in(accounts.operator)
    url = f"/console/cases/{case.id}/suggestions"
    client.post(f"{url}/{rows['phone']}", data={"decision": "accepted"})
    client.post(f"{url}/{rows['contact']}", data={"decision": "rejected"})
    sign_in(accounts.supervisor)
    page = client.get("/console/reports?kind=month&month=2026-11").get_data(as_text=True)
    figure = page.split('id="suggestion-acceptance"', 1)[1].split("</section>", 1)[0]
    assert "字段建议采纳率" in figure and "50.0%" in figure and "1/2" in figure
    october = client.get("/console/reports?kind=month&month=2026-10").get_data(as_text=True)
    assert 'id="suggestion-acceptance"' not in october  # nothing decided then
    sign_in(accounts.dept_a)  # a unit's own figures do not include the centre's work
    assert 'id="suggestion-acceptance"' not in client.get(
        "/console/reports?kind=month&month=2026-11").get_data(as_text=True)
