"""Key 9's limits (cases.lookup_guard): per call, per case number and per caller number;
near-miss digits never pass; a number that does not exist behaves exactly like one that does;
a merged case reads where it went."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from cases import duplicates, lookup_guard
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from cases.lookup_guard import LookupCounter
from cases.notifications import Audience, Notification, NotificationKind, inbox
from core.db import db
from ivr import speech
from ivr.phone import TerminalPhone
from tests.cases.factories import CALENDAR, OPERATOR, department_id, local, new_case

CONTACT = "+8613912345678"  # last four digits: 5678
STRANGER = "+8613700137000"
VERIFY = "为保护企业信息，请输入该诉求联系电话的后四位，以井号键结束；返回主菜单请按星号键。"
READ = "正在办理中。承办单位：区税务局。"
MISSING = "2611249999"  # a well-formed number nobody filed


def routed(session: Session, phone: str = CONTACT, at: str = "2026-11-24 09:00") -> Case:
    case = new_case(session, local(at), contact_phone=phone)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区税务局"),
                           actor=OPERATOR, now=local(at), calendar=CALENDAR)
    return case


def said(outcome: Any) -> str:
    return "\n".join(outcome.heard)


def reset_counters() -> None:
    db.session.execute(delete(LookupCounter))
    db.session.commit()


@pytest.fixture
def case_number(session: Session, clock: Any) -> str:
    number = routed(session).number
    session.commit()
    clock.set_local("2026-11-24 10:00")
    return number


# Near misses: one digit off anywhere, transposed, reversed, the right two- or three-digit
# prefix or suffix, the right digits inside a longer entry, too short, the whole number.
NEAR_MISSES = ["5679", "5668", "5578", "4678", "6578", "5687", "8765", "5600", "5670",
               "0078", "0678", "56", "567", "56781", "15678", "13912345678", "0000"]


@pytest.mark.parametrize("digits", NEAR_MISSES)
def test_near_miss_digits_never_read_the_case(phone: TerminalPhone, case_number: str,
                                              digits: str) -> None:
    outcome = phone.call(from_number=STRANGER, keys=["9", f"{case_number}#", f"{digits}#"])
    assert speech.VERIFY_WRONG in outcome.heard
    assert READ not in said(outcome)


def test_the_right_digits_read_it_and_give_the_charge_back(phone: TerminalPhone,
                                                           case_number: str) -> None:
    for _ in range(lookup_guard.MAX_PER_CASE + 2):  # never locks its own contact out
        outcome = phone.call(from_number=STRANGER, keys=["9", f"{case_number}#", "5678#"])
        assert READ in said(outcome)
    assert db.session.scalar(select(LookupCounter.tries).where(
        LookupCounter.scope == "case")) == 0


def test_one_call_gets_five_tries_however_often_9_is_pressed(
        session: Session, phone: TerminalPhone, case_number: str) -> None:
    other = routed(session, phone="+8613912340000", at="2026-11-24 09:30").number
    session.commit()
    outcome = phone.call(from_number=STRANGER, keys=[
        "9", f"{case_number}#", "1111#", "2222#", "3333#",  # three wrong: back to the menu
        "9", f"{other}#", "1111#", "2222#",  # two more: five in this call
        "0000#"])  # the sixth, although right for ``other``, is not compared
    heard = said(outcome)
    assert heard.count(speech.VERIFY_WRONG) == 5
    assert speech.LOOKUP_SPENT in outcome.heard
    assert "正在办理中" not in heard
    # Pressing 9 again asks for no number any more.
    again = phone.call(from_number=STRANGER, keys=["9", f"{other}#", "0000#"],
                       call_sid=outcome.call_sid)
    assert speech.LOOKUP_SPENT in again.heard and VERIFY not in again.heard


def test_rotating_caller_ids_cannot_beat_the_case_limit(
        session: Session, phone: TerminalPhone, case_number: str) -> None:
    for n in range(lookup_guard.MAX_PER_CASE):
        phone.call(from_number=f"+861370013700{n}", keys=["9", f"{case_number}#", "1234#"])
    locked = phone.call(from_number="+8613600136000", keys=["9", f"{case_number}#", "5678#"])
    assert speech.CASE_LOCKED in locked.heard
    assert READ not in said(locked)
    # The registered phone still hears it, without digits.
    own = phone.call(from_number=CONTACT, keys=["9", f"{case_number}#"])
    assert READ in said(own)
    # The centre was told once.
    notices = [n for n in inbox(session, Audience.SUPERVISOR)
               if n.kind == NotificationKind.LOOKUP_LOCKED]
    assert len(notices) == 1 and notices[0].case is not None
    assert notices[0].case.number == case_number


def test_one_caller_number_is_limited_across_calls_and_cases(
        session: Session, phone: TerminalPhone, case_number: str) -> None:
    numbers = [case_number] + [routed(session, phone=f"+861391234000{n}",
                                      at=f"2026-11-24 09:1{n}").number for n in range(3)]
    session.commit()
    for number in numbers:  # 4 calls × 3 wrong = 12 > 10 for this caller
        phone.call(from_number=STRANGER, keys=["9", f"{number}#", "1111#", "2222#", "3333#"])
    outcome = phone.call(from_number=STRANGER, keys=["9", f"{case_number}#", "5678#"])
    assert speech.LOOKUP_SPENT in outcome.heard and READ not in said(outcome)
    # Another caller is not affected by this one's count (the case has 3 failures).
    assert READ in said(phone.call(from_number="+8613600136000",
                                   keys=["9", f"{case_number}#", "5678#"]))


def _statements(run: Any) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0].upper())

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_an_unknown_number_sounds_and_works_like_a_real_one(
        session: Session, twilio_post: Any, case_number: str) -> None:
    """Each verification step, posted as Twilio would: the same words and the same database
    work (statement by statement) for a real number and for one nobody filed."""
    def verify(number: str, n: int) -> str:
        response = twilio_post(
            f"/ivr/flow/hotline/status_verify?event=gather&lk={number}",
            {"CallSid": f"CA{number}{n:022d}", "From": f"+861370013700{n}", "To": "+8657488888718",
             "Digits": "4321"})
        assert response.status_code == 200
        return response.get_data(as_text=True).replace(number, "N")

    def attempts(number: str) -> tuple[list[str], list[list[str]]]:
        reset_counters()
        verify(number, 9)  # warm caches (phone menu, calendar) before counting
        reset_counters()
        answers: list[str] = []
        statements = [_statements(lambda n=n: answers.append(verify(number, n)))
                      for n in range(lookup_guard.MAX_PER_CASE + 1)]
        return answers, statements

    real_answers, real_statements = attempts(case_number)
    missing_answers, missing_statements = attempts(MISSING)
    assert real_answers == missing_answers
    assert speech.VERIFY_WRONG in real_answers[0] and speech.CASE_LOCKED in real_answers[-1]
    assert real_statements == missing_statements
    kinds = db.session.scalars(select(Notification.case_id).where(
        Notification.kind == NotificationKind.LOOKUP_LOCKED)).all()
    assert sorted(kinds, key=lambda v: v is None) == [
        session.scalars(select(Case.id).where(Case.number == case_number)).one(), None]


def test_a_merged_case_reads_the_case_it_went_into(session: Session,
                                                   phone: TerminalPhone, clock: Any) -> None:
    earlier = routed(session)
    later = new_case(session, local("2026-11-24 09:30"), contact_phone=CONTACT)
    duplicates.merge(session, later.id, into_id=earlier.id, reason="同一诉求", actor=OPERATOR,
                     now=local("2026-11-24 09:40"))
    session.commit()
    clock.set_local("2026-11-24 10:00")
    heard = said(phone.call(from_number=STRANGER, keys=["9", f"{later.number}#", "5678#"]))
    assert (f"诉求编号{speech.spoken_case_number(later.number)}，已并入诉求编号"
            f"{speech.spoken_case_number(earlier.number)}一并办理。该诉求正在办理中。"
            "承办单位：区税务局。") in heard


def test_a_case_merged_into_another_contacts_case_does_not_name_it(
        session: Session, phone: TerminalPhone, clock: Any) -> None:
    from cases.enterprises import register_enterprise

    company = register_enterprise(session, name="宁波甲机械有限公司",
                                  phones=["+8613800138000"], now=local("2026-11-24 08:00"))
    earlier = routed(session, phone="+8613800138000")
    earlier.enterprise_id = company.enterprise.id
    later = new_case(session, local("2026-11-24 09:30"), contact_phone=CONTACT,
                     enterprise_id=company.enterprise.id)
    duplicates.merge(session, later.id, into_id=earlier.id, reason="同一企业同一诉求",
                     actor=OPERATOR, now=local("2026-11-24 09:40"))
    session.commit()
    clock.set_local("2026-11-24 10:00")
    heard = said(phone.call(from_number=CONTACT, keys=["9", f"{later.number}#"]))
    assert (f"诉求编号{speech.spoken_case_number(later.number)}，已并入同类诉求一并办理，"
            "该诉求正在办理中。承办单位：区税务局。") in heard
    assert speech.spoken_case_number(earlier.number) not in heard
