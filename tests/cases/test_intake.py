"""The one intake service: numbering, validation, same-day deadline, audit, suggestions."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.case_models import Case, CaseEvent
from cases.errors import InvalidInput
from cases.intake import file_case
from cases.numbering import format_number, looks_like_number
from core.db import db
from tests.cases.factories import CALENDAR, OPERATOR, in_threads, local, new_case


def test_numbers_are_the_local_date_and_a_daily_sequence(session: Session) -> None:
    first = new_case(session, local("2026-10-10 09:00"))
    second = new_case(session, local("2026-10-10 23:30"))
    assert (first.number, second.number) == ("2610100001", "2610100002")


def test_sequence_restarts_each_local_day(session: Session) -> None:
    new_case(session, local("2026-10-10 09:00"))
    assert new_case(session, local("2026-10-11 00:10")).number == "2610110001"


def test_number_shape_is_digits_only() -> None:
    assert format_number(date(2026, 1, 5), 7) == "2601050007"
    assert looks_like_number("2601050007")
    assert not looks_like_number("26010500")
    assert not looks_like_number("260105000A")


def test_concurrent_filing_never_duplicates_a_number(app: object) -> None:
    now = local("2026-11-24 10:00")
    writers, each = 6, 5
    # All writers start filing together, so their numbers are taken at the same time.
    together = threading.Barrier(writers)

    def writer(_i: int) -> list[str]:
        numbers = []
        together.wait(30)
        for _ in range(each):
            with db.new_session() as own:
                numbers.append(file_case(own, channel="wechat", description="咨询人才公寓申请",
                                         actor=OPERATOR, now=now, calendar=CALENDAR).number)
                own.commit()
        return numbers

    numbers = [n for per_writer in in_threads(writer, writers) for n in per_writer]
    assert len(numbers) == len(set(numbers)) == writers * each
    assert sorted(numbers)[-1] == f"261124{writers * each:04d}"


def test_received_at_defaults_to_now(session: Session) -> None:
    case = new_case(session, local("2026-11-24 10:00"))
    assert case.received_at == local("2026-11-24 10:00")
    assert case.received_on == date(2026, 11, 24)


def test_received_at_of_an_earlier_collection_is_kept(session: Session) -> None:
    case = new_case(session, local("2026-11-24 10:00"), received_at=local("2026-11-20 15:00"),
                    channel="forum")
    assert case.received_on == date(2026, 11, 20)
    # The centre's same-day duty runs from registration, not from the forum.
    assert case.due_date == date(2026, 11, 24)


def test_centre_is_due_to_answer_or_route_on_the_day_received(session: Session) -> None:
    case = new_case(session, local("2026-10-03 11:00"))  # National Day holiday
    assert (case.status, case.ledger_state, case.due_date) == (
        "received", "open", date(2026, 10, 8))


def test_filing_is_audited_with_the_actor(session: Session) -> None:
    case = new_case(session, local("2026-11-24 10:00"))
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert (event.action, event.actor_kind, event.actor_name) == ("filed", "operator", "小王")
    assert event.after["number"] == case.number


def test_description_gets_routing_suggestions_with_keywords(session: Session) -> None:
    case = new_case(session, local("2026-11-24 10:00"), description="想申请续贷，银行授信不够")
    top = case.suggestions[0]
    assert top.department_name == "区金融发展服务中心"
    assert set(top.keywords) == {"续贷", "授信"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"description": "  "}, "description"),
        ({"category": "land"}, "category"),
        ({"category": "policy", "subcategory": "land"}, "subcategory"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"enterprise_id": 999999}, "enterprise_id"),
    ],
)
def test_invalid_values_name_the_field(session: Session, fields: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        new_case(session, local("2026-11-24 10:00"), **fields)
    assert field in info.value.fields


def test_received_at_in_the_future_is_refused(session: Session) -> None:
    now = local("2026-11-24 10:00")
    with pytest.raises(InvalidInput, match="受理时间"):
        new_case(session, now, received_at=now + timedelta(hours=1))


def test_invalid_case_leaves_nothing_behind(session: Session) -> None:
    with pytest.raises(InvalidInput):
        new_case(session, local("2026-11-24 10:00"), contact_phone="abc")
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_contact_phone_is_stored_normalised(session: Session) -> None:
    case = new_case(session, local("2026-11-24 10:00"), contact_phone="0574-8888 8718")
    assert case.contact_phone == "+8657488888718"


def test_api_actor_can_file(session: Session) -> None:
    case = file_case(session, channel="web_platform", description="咨询专利申请",
                     actor=Actor("api", "接口：平台"), now=local("2026-11-24 10:00"),
                     calendar=CALENDAR)
    assert case.created_by == "接口：平台"


def test_count_by_status_counts_each_status(session: Session) -> None:
    from cases.queries import count_by_status

    new_case(session, local("2026-11-24 10:00"))
    new_case(session, local("2026-11-24 11:00"))
    assert count_by_status(session) == {"received": 2}


def test_wecom_group_and_qiyema_are_channels(session: Session) -> None:
    from cases.intake import file_case
    from cases.vocab import CHANNEL_LABELS
    from tests.cases.factories import OPERATOR, local

    assert (CHANNEL_LABELS["wecom_group"], CHANNEL_LABELS["qiyema"]) == ("企业微信群", "企业码")
    case = file_case(session, channel="wecom_group", description="企业微信群里反映用电增容",
                     actor=OPERATOR, now=local("2026-11-24 10:00"))
    assert case.channel == "wecom_group"
