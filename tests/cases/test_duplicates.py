"""并单: one duplicate rule for every channel, merge and unlink, the SMS, the KPI effect."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import duplicates
from cases.case_models import Case, CaseEvent
from cases.errors import ForbiddenTransition, InvalidInput
from cases.queries import unsettled_cases_for_caller
from messaging import texts
from messaging.models import SmsMessage
from reports import indicators, periods
from reports.indicators import Scope
from tests.cases.factories import OPERATOR, local, new_case
from tests.importing.test_cases import GOOD, run, write_csv

PHONE = "13800138000"
NOW = local("2026-11-24 09:00")


def earlier_case(session: Session, **fields: object) -> Case:
    fields.setdefault("contact_phone", PHONE)
    fields.setdefault("category", "factor")
    return new_case(session, local("2026-11-19 10:00"), "用电增容一直没人处理", **fields)


def events(session: Session, case: Case) -> list[tuple[str, str]]:
    return [(e.action, e.note) for e in session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]


def test_an_imported_repeat_finds_the_earlier_case(session: Session, tmp_path: Path) -> None:
    first = earlier_case(session)
    run(session, write_csv(tmp_path, GOOD))
    imported = session.scalars(select(Case).where(Case.channel == "forum")).one()
    assert duplicates.candidates(session, imported) == [first]
    # The earlier case does not list the later one: only an earlier case can take a merge.
    assert duplicates.candidates(session, first) == []


def test_voicemail_linking_uses_the_same_rule(session: Session) -> None:
    first = earlier_case(session)
    later = new_case(session, NOW, "还是用电增容", contact_phone=PHONE, category="factor")
    # What a voicemail from this phone in this category would be linked to (newest open).
    assert duplicates.find_duplicate(session, phone=later.contact_phone, enterprise_id=None,
                                     category="factor", now=NOW) == later
    assert duplicates.candidates(session, later) == [first]


def test_other_category_closed_or_old_cases_are_no_candidates(session: Session) -> None:
    earlier_case(session, category="policy")
    new_case(session, local("2026-11-10 10:00"), "很久以前", contact_phone=PHONE,
             category="factor")
    later = new_case(session, NOW, "用电增容", contact_phone=PHONE, category="factor")
    assert duplicates.candidates(session, later) == []


def test_merge_tells_the_enterprise_and_unlink_restores(session: Session) -> None:
    first = earlier_case(session)
    later = new_case(session, NOW, "还是用电增容", contact_phone=PHONE, category="factor")
    with pytest.raises(InvalidInput):
        duplicates.merge(session, later.id, into_id=first.id, reason=" ", actor=OPERATOR,
                         now=NOW)
    with pytest.raises(InvalidInput):
        duplicates.merge(session, first.id, into_id=later.id, reason="重复", actor=OPERATOR,
                         now=NOW)
    duplicates.merge(session, later.id, into_id=first.id, reason="同一企业重复反映",
                     actor=OPERATOR, now=NOW)
    assert (later.status, later.merged_into_id, later.ledger_state) == (
        "merged", first.id, "settled")
    assert events(session, later)[-1] == ("merged", "同一企业重复反映")
    assert events(session, first)[-1] == ("duplicate_merged", "同一企业重复反映")
    assert duplicates.merged_cases(session, first) == [later]
    sms = session.scalars(select(SmsMessage).where(SmsMessage.case_id == later.id)).one()
    assert sms.to == later.contact_phone
    assert texts.render(sms.kind, sms.params) == (
        f"【奉化8718】您的诉求（编号{later.number}）与此前诉求（编号{first.number}）内容相同，"
        f"已并入编号{first.number}一并办理。查询请致电0574-88888718按9。")
    with pytest.raises(ForbiddenTransition):
        duplicates.merge(session, later.id, into_id=first.id, reason="再并", actor=OPERATOR,
                         now=NOW)

    # Key 9 from this phone hears the earlier case, not the merged one.
    assert unsettled_cases_for_caller(session, PHONE)[0] == [first]

    duplicates.unlink(session, later.id, reason="并错了，诉求不同", actor=OPERATOR, now=NOW)
    assert (later.status, later.merged_into_id, later.ledger_state) == (
        "received", None, "open")
    assert events(session, later)[-1] == ("unlinked", "并错了，诉求不同")
    assert events(session, first)[-1] == ("duplicate_unlinked", "并错了，诉求不同")
    with pytest.raises(ForbiddenTransition):
        duplicates.unlink(session, later.id, reason="再取消", actor=OPERATOR, now=NOW)


def test_a_merged_case_is_not_counted_as_received(session: Session) -> None:
    first = earlier_case(session)
    later = new_case(session, NOW, "还是用电增容", contact_phone=PHONE, category="factor")
    scope = Scope(period=periods.month(2026, 11), today=date(2026, 11, 30),
                  tz=ZoneInfo("Asia/Shanghai"))

    def received() -> int:
        return sum(bucket["received"] for bucket in indicators.count(session, scope).values())

    assert received() == 2
    duplicates.merge(session, later.id, into_id=first.id, reason="重复", actor=OPERATOR,
                     now=NOW)
    assert received() == 1
