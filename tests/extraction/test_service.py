"""Suggestions arrive with the case's text; the operator decides; nothing overwrites a person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cases.actions.details import do_update_details
from cases.case_models import Case, CaseEvent
from cases.errors import InvalidInput
from cases.intake import file_case
from cases.models import Enterprise
from cases.vocab import Channel
from cases.voicemail import file_voicemail, transcript_ready
from core.db import db
from extraction.models import FieldSuggestion
from extraction.service import acceptance, case_suggestions, decide, word_spans
from ivr.models import Call, Recording
from tests.cases.factories import OPERATOR, local
from transcription.models import Transcript

TRANSCRIPT = "喂你好我是奉化精工机械的陈经理我们厂最近老是停电电话幺三八零零幺三八零零幺"


@pytest.fixture
def session(app: Any) -> Any:
    session = db.session()
    session.add(Enterprise(name="宁波奉化精工机械有限公司", town="萧王庙街道",
                           created_at=local("2026-11-01 09:00")))
    session.commit()
    return session


def voicemail_with_transcript(session: Any, text: str = TRANSCRIPT) -> Case:
    now = local("2026-11-24 23:00")
    call = Call(call_sid="CA" + "1" * 32, from_number="+8613900000000", category="factor",
                started_at=now, status="completed", duration=60)
    recording = Recording(recording_sid="RE" + "1" * 32, call=call, status="completed",
                          duration=9, created_at=now)
    session.add_all([call, recording])
    session.flush()
    file_voicemail(session, recording_id=recording.id, call_id=call.id,
                   caller="+8613900000000", category="factor", subcategory=None, now=now)
    # The words as Vosk gave them, with their times.
    words = [{"word": w, "start": float(i), "end": float(i) + 0.9, "conf": 0.9}
             for i, w in enumerate(["喂", "你好", "我", "是", "奉化", "精工", "机械", "的",
                                    "陈", "经理", "我们", "厂", "最近", "老是", "停电",
                                    "电话", "幺三八", "零零幺三", "八零零幺"])]
    session.add(Transcript(recording_id=recording.id, text=text, words=words, confidence=0.9,
                           duration=19.0, model_name="vosk-model-small-cn-0.22"))
    case = transcript_ready(session, recording.id, text, 0.9, now=now + timedelta(minutes=1))
    session.commit()
    assert case is not None
    return case


def by_field(case_id: int) -> dict[str, FieldSuggestion]:
    return {row.field: row for row in case_suggestions(db.session(), case_id)}


def test_a_transcript_brings_suggestions_with_evidence_that_seeks_in_the_audio(session) -> None:
    case = voicemail_with_transcript(session)
    found = by_field(case.id)
    assert {f: s.value for f, s in found.items()} == {
        "enterprise": "宁波奉化精工机械有限公司", "contact": "陈经理", "phone": "13800138001",
        "subarea": "水电气", "town": "萧王庙街道"}  # 要素保障 is the caller's menu choice already
    enterprise = found["enterprise"]
    assert enterprise.details["registered"] is True and enterprise.source == "transcript"
    assert enterprise.evidence[0]["text"] == "奉化精工机械"
    assert enterprise.evidence[0]["seconds"] == 4.0  # the word 奉化 starts at 4 s
    assert found["phone"].evidence[0]["seconds"] == 16.0
    assert all(s.status == "pending" and 0 < s.confidence <= 1 for s in found.values())


def test_a_typed_case_brings_suggestions_too(session) -> None:
    case = file_case(session, channel=Channel.WINDOW,
                     description="企业反映停电，联系人陈经理，13800138001",
                     actor=OPERATOR, now=local("2026-11-24 10:00"))
    session.commit()
    found = by_field(case.id)
    assert found["phone"].value == "13800138001" and found["phone"].source == "description"
    assert "seconds" not in found["phone"].evidence[0]


def test_accepting_fills_the_case_and_is_audited(session) -> None:
    case = voicemail_with_transcript(session)
    found = by_field(case.id)
    now = local("2026-11-25 09:00")
    for field in ("enterprise", "contact", "phone", "subarea"):
        decide(session, found[field].id, decision="accepted", actor=OPERATOR, now=now)
    session.commit()
    db.session.expire_all()
    case = session.get(Case, case.id)
    assert case.enterprise.name == "宁波奉化精工机械有限公司"
    assert (case.contact_name, case.contact_phone) == ("陈经理", "+8613800138001")
    assert (case.category, case.subcategory) == ("factor", "utilities")
    events = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "field_suggestion")).all()
    assert [e.after["field"] for e in events] == ["enterprise", "contact", "phone", "subarea"]
    assert all(e.actor_name == OPERATOR.name for e in events)


def test_an_edited_value_is_the_operators_and_a_rejected_one_changes_nothing(session) -> None:
    case = voicemail_with_transcript(session)
    found = by_field(case.id)
    now = local("2026-11-25 09:00")
    decide(session, found["contact"].id, decision="edited", value="陈建国经理", actor=OPERATOR,
           now=now)
    decide(session, found["phone"].id, decision="rejected", actor=OPERATOR, now=now)
    session.commit()
    db.session.expire_all()
    case = session.get(Case, case.id)
    assert case.contact_name == "陈建国经理" and case.contact_phone == "+8613900000000"
    rows = by_field(case.id)
    assert (rows["contact"].status, rows["contact"].final_value) == ("edited", "陈建国经理")
    assert rows["phone"].status == "rejected"
    with pytest.raises(InvalidInput):  # decided once
        decide(session, rows["phone"].id, decision="accepted", actor=OPERATOR, now=now)


def test_nothing_overwrites_what_a_person_entered(session) -> None:
    case = voicemail_with_transcript(session)
    now = local("2026-11-25 09:00")
    do_update_details(session, case.id, actor=OPERATOR, now=now, contact_name="陈先生")
    session.commit()
    contact = by_field(case.id)["contact"]
    with pytest.raises(InvalidInput, match="已有“陈先生”"):
        decide(session, contact.id, decision="accepted", actor=OPERATOR, now=now)
    session.rollback()
    assert session.get(Case, case.id).contact_name == "陈先生"
    # A new transcript of the same voicemail (re-transcribed) keeps the operator's value.
    transcript_ready(session, case.recording_id, TRANSCRIPT + "谢谢", 0.91,
                     now=now + timedelta(hours=1))
    session.commit()
    assert session.get(Case, case.id).contact_name == "陈先生"
    # Only when the operator says so.
    decide(session, by_field(case.id)["contact"].id, decision="accepted", replace=True,
           actor=OPERATOR, now=now)
    session.commit()
    assert session.get(Case, case.id).contact_name == "陈经理"


def test_decided_suggestions_survive_a_new_transcript_and_are_not_suggested_again(
        session) -> None:
    case = voicemail_with_transcript(session)
    now = local("2026-11-25 09:00")
    decide(session, by_field(case.id)["phone"].id, decision="rejected", actor=OPERATOR, now=now)
    session.commit()
    transcript_ready(session, case.recording_id, TRANSCRIPT + "谢谢", 0.92,
                     now=now + timedelta(hours=1))
    session.commit()
    phones = [r for r in case_suggestions(session, case.id) if r.field == "phone"]
    assert [(r.value, r.status) for r in phones] == [("13800138001", "rejected")]


def test_the_acceptance_rate_counts_decisions_in_the_period(session) -> None:
    case = voicemail_with_transcript(session)
    found = by_field(case.id)
    decide(session, found["enterprise"].id, decision="accepted", actor=OPERATOR,
           now=local("2026-11-25 09:00"))
    decide(session, found["contact"].id, decision="edited", value="陈总", actor=OPERATOR,
           now=local("2026-11-25 09:01"))
    decide(session, found["phone"].id, decision="rejected", actor=OPERATOR,
           now=local("2026-11-25 09:02"))
    decide(session, found["town"].id, decision="accepted", actor=OPERATOR,
           now=local("2026-12-01 09:00"))  # next month
    session.commit()
    november = acceptance(session, local("2026-11-01 00:00"), local("2026-12-01 00:00"))
    assert (november.accepted, november.edited, november.rejected) == (1, 1, 1)
    assert november.rate == pytest.approx(1 / 3)
    assert acceptance(session, local("2026-10-01 00:00"), local("2026-11-01 00:00")).rate is None


def test_words_are_found_in_the_joined_transcript() -> None:
    words = [{"word": "我们", "start": 0.0}, {"word": "ok", "start": 0.5},
             {"word": "公司", "start": 1.0}]
    assert word_spans("我们ok公司", words) == [(0, 2, 0.0), (2, 4, 0.5), (4, 6, 1.0)]
