"""Key 9 through signed webhooks: the filing phone hears its cases without typing; another
phone must give the contact phone's last four digits first; three wrong tries end it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply, do_report_progress
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from ivr.phone import TerminalPhone
from tests.cases.factories import CALENDAR, OPERATOR, department_id, liaison, local, new_case

FILER = "+8613800138000"
STRANGER = "+8613900139000"
VERIFY = "为保护企业信息，请输入该诉求联系电话的后四位，以井号键结束；返回主菜单请按星号键。"
MAIN_MENU = "要素保障问题"


def routed(session: Session, at: str, *, unit: str = "区税务局", phone: str = FILER) -> int:
    case = new_case(session, local(at), contact_phone=phone)
    do_route_to_department(session, case.id, department_id=department_id(session, unit),
                           actor=OPERATOR, now=local(at), calendar=CALENDAR)
    return case.id


def said(outcome: Any) -> str:
    return "\n".join(outcome.heard)


def test_the_filing_phone_hears_its_newest_three_cases_without_typing(
        session: Session, phone: TerminalPhone, clock: Any) -> None:
    oldest = session.get_one(Case, routed(session, "2026-11-23 09:00"))
    do_reply(session, oldest.assignments[0].id, text="已办结",
             actor=liaison(session, "区税务局"), now=local("2026-11-23 10:00"),
             calendar=CALENDAR)
    routed(session, "2026-11-24 08:00")
    progress = session.get_one(Case, routed(session, "2026-11-24 09:00", unit="区经信局"))
    do_report_progress(session, progress.assignments[0].id, text="已约供电公司现场勘查",
                       actor=liaison(session, "区经信局"), now=local("2026-11-24 10:00"))
    new_case(session, local("2026-11-24 10:00"), contact_phone=FILER)  # not routed yet
    session.commit()
    clock.set_local("2026-11-25 10:00")
    outcome = phone.call(from_number=FILER, keys=["9"])
    heard = said(outcome)
    assert ("您有4件诉求尚未办结，以下是您最近的3件诉求。"
            "第一件，诉求编号二六幺幺二四，零零零三，已受理，正在分派办理。"
            "第二件，诉求编号二六幺幺二四，零零零二，正在办理中。承办单位：区经信局。"
            "办理期限为11月26日。最新办理进展：已约供电公司现场勘查。"
            "第三件，诉求编号二六幺幺二四，零零零幺，正在办理中。承办单位：区税务局。"
            "办理期限为11月26日。") in outcome.heard
    assert "二六幺幺二三，零零零幺" not in heard  # the oldest is not read
    # Then the number prompt; silence repeats it once, then the main menu.
    prompts = [line for line in outcome.heard if line.startswith("查询诉求进度")]
    assert len(prompts) == 2
    last = max(i for i, line in enumerate(outcome.heard) if line == prompts[-1])
    assert outcome.heard[last + 1:last + 3] == ["抱歉，没有收到您的输入。",
                                                outcome.heard[2]]  # the main menu again
    assert outcome.heard[2].startswith(MAIN_MENU)


def test_each_reply_type_is_read_in_full(session: Session, phone: TerminalPhone,
                                         clock: Any) -> None:
    answered = routed(session, "2026-11-24 09:00")
    explained = routed(session, "2026-11-24 09:05")
    for case_id, kind, text, basis in (
            (answered, "answer", "已为企业办理出口退税，款项三个工作日内到账。", ""),
            (explained, "explanation", "企业不属于小微企业，不能享受该项减免", "财税〔2023〕12号")):
        case = session.get_one(Case, case_id)
        do_reply(session, case.assignments[0].id, text=text, kind=kind,
                 policy_basis=basis, actor=liaison(session, "区税务局"),
                 now=local("2026-11-24 11:00"), calendar=CALENDAR)
    session.commit()
    clock.set_local("2026-11-25 10:00")
    heard = said(phone.call(from_number=FILER, keys=["9"]))
    assert ("诉求编号二六幺幺二四，零零零幺，已答复，我们将回访听取您的评价。承办单位：区税务局。"
            "答复内容：已为企业办理出口退税，款项三个工作日内到账。") in heard
    assert ("诉求编号二六幺幺二四，零零零二，已答复，我们将回访听取您的评价。承办单位：区税务局。"
            "解释说明：企业不属于小微企业，不能享受该项减免，依据财税〔2023〕12号。") in heard
    # Typed by the filing phone: read at once, no digits asked.
    typed = phone.call(from_number=FILER, keys=["9", "2611240001#"])
    assert VERIFY not in typed.heard
    assert sum("答复内容：已为企业办理出口退税" in line for line in typed.heard) == 2


def test_another_phone_says_nothing_before_the_last_four_digits(
        session: Session, phone: TerminalPhone, clock: Any) -> None:
    routed(session, "2026-11-24 09:00")
    session.commit()
    clock.set_local("2026-11-24 10:00")
    outcome = phone.call(from_number=STRANGER, keys=["9", "2611240001#", "8000#"])
    heard = said(outcome)
    before = heard[:heard.index(VERIFY)]
    assert "区税务局" not in before and "正在办理中" not in before
    assert ("诉求编号二六幺幺二四，零零零幺，正在办理中。承办单位：区税务局。"
            "办理期限为11月26日。") in heard[heard.index(VERIFY):]


def test_three_wrong_tries_end_the_lookup(session: Session, phone: TerminalPhone,
                                          clock: Any) -> None:
    routed(session, "2026-11-24 09:00")
    session.commit()
    clock.set_local("2026-11-24 10:00")
    outcome = phone.call(from_number=STRANGER,
                         keys=["9", "2611240001#", "1234#", "0000#", "9999#", "8000#"])
    heard = said(outcome)
    assert heard.count("诉求编号或电话后四位不正确。") == 3
    assert "验证未通过，本次查询已结束。" in heard
    assert "区税务局" not in heard
    # The fourth entry (the right digits) lands in the main menu, not in the look-up.
    after = outcome.heard[outcome.heard.index("验证未通过，本次查询已结束。") + 1]
    assert after.startswith(MAIN_MENU)


def test_an_unknown_number_is_not_revealed(session: Session, phone: TerminalPhone) -> None:
    outcome = phone.call(from_number=STRANGER, keys=["9", "2611249999#", "8000#"])
    assert VERIFY in outcome.heard
    assert "诉求编号或电话后四位不正确。" in outcome.heard


def test_a_past_due_date_is_never_read(session: Session, phone: TerminalPhone,
                                       clock: Any) -> None:
    routed(session, "2026-11-23 09:00")  # due Wed 25 Nov
    session.commit()
    clock.set_local("2026-11-27 10:00")
    heard = said(phone.call(from_number=FILER, keys=["9"]))
    assert "已超过办理期限，中心正在督促办理。" in heard
    assert "11月25日" not in heard
