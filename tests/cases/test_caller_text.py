"""What departments write reaches callers as data: key 9 reads replies, policy bases and unit
names as they are, whatever characters they hold, bounded in length (issue: a progress note
``请于{0}前到窗口办理`` broke key 9 for every case of that caller)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.engine import speakable
from cases.actions.assignments import do_reply, do_report_progress
from cases.actions.triage import do_route_to_department
from cases.case_models import Case, Reply
from cases.models import Department
from ivr import speech
from tests.cases.factories import CALENDAR, OPERATOR, department_id, liaison, local, new_case

FILER = "+8613800138000"
KEY_9 = "/ivr/flow/hotline/main_menu?event=gather"
NASTY = ["{", "}", "{0}", "{x:>30000000}", "{office_hours}", "%", "%s", "%(x)s", "<", ">",
         "&", "&amp;", '"', "]]>", "<![CDATA[", "\x1b", "\n", " "]
# What a database column can hold: no NUL (PostgreSQL refuses it), no lone surrogates.
stored_text = st.lists(
    st.one_of(st.sampled_from(NASTY),
              st.characters(exclude_categories=("Cs",), exclude_characters="\x00")),
    min_size=1, max_size=40).map("".join)


def progress_case(session: Session, note: str, *, unit: str = "区经信局") -> Case:
    case = new_case(session, local("2026-11-24 09:00"), contact_phone=FILER)
    do_route_to_department(session, case.id, department_id=department_id(session, unit),
                           actor=OPERATOR, now=local("2026-11-24 09:00"),
                           calendar=CALENDAR)
    do_report_progress(session, case.assignments[0].id, text=note,
                       actor=liaison(session, unit), now=local("2026-11-24 10:00"))
    return case


def key_9(twilio_post: Any, sid: str = "CA" + "9" * 32) -> etree._Element:
    response = twilio_post(KEY_9, {"CallSid": sid, "From": FILER, "To": "+8657488888718",
                                   "Digits": "9"})
    assert response.status_code == 200
    return etree.fromstring(response.data)


def shape(doc: etree._Element) -> list[tuple[str, dict[str, str]]]:
    return [(el.tag, dict(el.attrib)) for el in doc.iter()]


def test_a_progress_note_with_format_syntax_is_read_as_written(
        session: Session, twilio_post: Any) -> None:
    progress_case(session, "请于{0}前到窗口办理")
    progress_case(session, "已受理{x:>30000000}")
    session.commit()
    doc = key_9(twilio_post)
    said = " ".join(doc.xpath("//Say/text()"))
    assert "最新办理进展：请于{0}前到窗口办理。" in said
    assert "最新办理进展：已受理{x:>30000000}。" in said
    assert speech.LONG_REPLY_NOTE not in said
    assert len(etree.tostring(doc)) < 20_000  # not 30 MB of padding


def test_a_long_explanation_is_read_up_to_a_bound_then_says_where_the_rest_is(
        session: Session, twilio_post: Any) -> None:
    case = new_case(session, local("2026-11-24 09:00"), contact_phone=FILER)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区税务局"),
                           actor=OPERATOR, now=local("2026-11-24 09:00"),
                           calendar=CALENDAR)
    do_reply(session, case.assignments[0].id, text="不符合条件" * 100,
             kind="explanation", policy_basis="财税〔2023〕12号" * 30,
             actor=liaison(session, "区税务局"), now=local("2026-11-24 11:00"),
             calendar=CALENDAR)
    session.commit()
    said = " ".join(key_9(twilio_post).xpath("//Say/text()"))
    spoken = said[said.index("解释说明："):]
    assert spoken.startswith("解释说明：" + ("不符合条件" * 100)[:speech.SPOKEN_REPLY_MAX] + "……")
    assert "，依据" + ("财税〔2023〕12号" * 30)[:speech.SPOKEN_BASIS_MAX] + "……。" in spoken
    assert speech.LONG_REPLY_NOTE in spoken


def test_any_reply_basis_or_unit_name_keeps_the_answer_well_formed(
        session: Session, twilio_post: Any) -> None:
    case = new_case(session, local("2026-11-24 09:00"), contact_phone=FILER)
    unit = department_id(session, "区税务局")
    do_route_to_department(session, case.id, department_id=unit, actor=OPERATOR,
                           now=local("2026-11-24 09:00"), calendar=CALENDAR)
    do_reply(session, case.assignments[0].id, text="已答复", kind="explanation",
             policy_basis="依据", actor=liaison(session, "区税务局"),
             now=local("2026-11-24 11:00"), calendar=CALENDAR)
    session.commit()
    reply_id = session.scalars(select(Reply.id).where(Reply.case_id == case.id)).one()
    plain = shape(key_9(twilio_post))

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(text=stored_text, basis=stored_text, name=stored_text)
    def check(text: str, basis: str, name: str) -> None:
        reply = session.get_one(Reply, reply_id)
        reply.text, reply.policy_basis = text, basis
        session.get_one(Department, unit).name = name[:60] + "单位"
        session.commit()
        doc = key_9(twilio_post)
        assert shape(doc) == plain
        said = " ".join(doc.xpath("//Say/text()"))
        assert "解释说明：" in said
        assert speakable(" ".join(text.split()).rstrip("。"))[:20] in said

    check()
