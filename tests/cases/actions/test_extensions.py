"""延期 (``cases.actions.extensions``): the request and its rules, approval and refusal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cases.actions.extensions import do_approve_extension, do_reject_extension, do_request_extension
from cases.errors import ForbiddenTransition, InvalidInput, NotAllowed
from tests.cases.factories import (
    OPERATOR,
    actions,
    lead,
    liaison,
    local,
    routed_case,
)


def test_extension_request_and_approval_set_the_agreed_due_date(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    department = liaison(session, "区经信局")
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需供电公司现场勘察", agreed_with_enterprise=True,
                         actor=department, now=local("2026-11-25 09:00"))
    assert lead(case).extension_status == "requested"
    do_approve_extension(session, lead(case).id, enterprise_informed=True,
                         actor=OPERATOR, now=local("2026-11-25 10:00"))
    assert (lead(case).due_date, lead(case).enterprise_informed) == (date(2026, 12, 10), True)
    assert case.due_date == date(2026, 12, 10)
    assert "约定办结时限" in case.due_reason
    assert actions(session, case)[-3:] == ["extension_requested", "extension_approved",
                                           "due_changed"]


def test_extension_must_be_agreed_with_the_enterprise(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    with pytest.raises(InvalidInput) as info:
        do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                             reason="需勘察", agreed_with_enterprise=False,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-25 09:00"))
    assert "agreed_with_enterprise" in info.value.fields


def test_extension_cannot_be_requested_after_the_deadline(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))  # due 11-26
    with pytest.raises(ForbiddenTransition, match="超过办理期限"):
        do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                             reason="需勘察", agreed_with_enterprise=True,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-27 09:00"))


def test_extension_must_move_the_deadline_later(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    with pytest.raises(InvalidInput) as info:
        do_request_extension(session, lead(case).id, new_due=date(2026, 11, 25),
                             reason="需勘察", agreed_with_enterprise=True,
                             actor=liaison(session, "区经信局"),
                             now=local("2026-11-24 10:00"))
    assert "new_due" in info.value.fields


def test_rejected_extension_keeps_the_original_deadline(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需勘察", agreed_with_enterprise=True,
                         actor=liaison(session, "区经信局"),
                         now=local("2026-11-24 10:00"))
    do_reject_extension(session, lead(case).id, reason="可先书面答复", actor=OPERATOR,
                        now=local("2026-11-24 11:00"))
    assert (lead(case).extension_status, case.due_date) == ("rejected", date(2026, 11, 26))


def test_departments_cannot_approve_their_own_extension(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    department = liaison(session, "区经信局")
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 10),
                         reason="需勘察", agreed_with_enterprise=True, actor=department,
                         now=local("2026-11-24 10:00"))
    with pytest.raises(NotAllowed):
        do_approve_extension(session, lead(case).id, enterprise_informed=True,
                             actor=department, now=local("2026-11-24 11:00"))
