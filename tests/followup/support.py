"""Builders for follow-through tests: answered cases, follow-ups due, survey calls answered."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from twilio.http import HttpClient
from twilio.http.response import Response

from cases.actions.assignments import do_reply
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from core.db import db
from followup import jobs as followup_jobs
from followup.models import FollowUp, FollowUpAttempt
from tests.cases.factories import CALENDAR, department_id, liaison, new_case
from tests.cases.factories import OPERATOR as OPERATOR  # re-exported for tests

MOBILE = "+8613800138000"
ACCOUNT_SID = "AC" + "1" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"


@dataclass
class Sent:
    method: str
    url: str
    data: dict[str, Any]
    auth: tuple[str, str] | None


@dataclass
class FakeTwilio(HttpClient):
    """Twilio's REST API as the SDK sees it: records every request, answers 201 (or errors)."""

    requests: list[Sent] = field(default_factory=list)
    # Answers for the next requests, e.g. [(429, {...})]; then 201s again.
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(logger=logging.getLogger("fake-twilio"), is_async=False)

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        self.requests.append(Sent(method, url, dict(data or {}), auth))
        if self.failures:
            status, body = self.failures.pop(0)
            return Response(status, json.dumps(body))
        if url.endswith("/Calls.json"):
            sid = "CA" + uuid.uuid4().hex
            return Response(201, json.dumps({"sid": sid, "status": "queued",
                                             "to": data and data.get("To"),
                                             "account_sid": ACCOUNT_SID}))
        if url.endswith("/Messages.json"):
            return Response(201, json.dumps({"sid": "SM" + uuid.uuid4().hex,
                                             "status": "queued", "account_sid": ACCOUNT_SID}))
        return Response(404, json.dumps({"status": 404, "message": "not faked"}))

    def calls(self) -> list[Sent]:
        return [r for r in self.requests if r.url.endswith("/Calls.json")]

    def messages(self) -> list[Sent]:
        return [r for r in self.requests if r.url.endswith("/Messages.json")]


def answered_case(now: datetime, *, phone: str | None = MOBILE,
                  department: str = "区经信局") -> int:
    """A routed case answered by ``department`` at ``now``; returns its id (committed)."""
    with db.transaction() as session:
        case = new_case(session, now, contact_phone=phone)
        do_route_to_department(session, case.id,
                               department_id=department_id(session, department),
                               actor=OPERATOR, now=now, calendar=CALENDAR)
        do_reply(session, case.assignments[0].id, text="已答复企业",
                 actor=liaison(session, department), now=now, calendar=CALENDAR)
        return case.id


def followup_of(case_id: int) -> FollowUp:
    db.session.rollback()  # see what jobs and webhooks committed; objects stay usable
    return db.session.scalars(select(FollowUp).where(FollowUp.case_id == case_id)
                              .order_by(FollowUp.round.desc())).first()


def case(case_id: int) -> Case:
    db.session.rollback()  # see what jobs and webhooks committed; objects stay usable
    found = db.session.get(Case, case_id)
    assert found is not None
    return found


def attempts(followup_id: int) -> list[FollowUpAttempt]:
    db.session.rollback()  # see what jobs and webhooks committed; objects stay usable
    return list(db.session.scalars(select(FollowUpAttempt).where(
        FollowUpAttempt.followup_id == followup_id).order_by(FollowUpAttempt.number)))


def scheduled(case_id: int, clock: Any) -> FollowUp:
    """Schedule the case's follow-up and move the clock to its first calling time."""
    followup = followup_of(case_id)
    followup_jobs.schedule_followup(followup.id)
    followup = followup_of(case_id)
    assert followup.next_attempt_at is not None
    clock.now = followup.next_attempt_at
    return followup


def place(followup_id: int, twilio: FakeTwilio) -> tuple[str, dict[str, Any]]:
    """Run the call job; returns the CallSid Twilio gave and the request's form fields."""
    before = len(twilio.calls())
    result = followup_jobs.place_followup_call(followup_id)
    assert len(twilio.calls()) == before + 1, result
    return result, twilio.calls()[-1].data


def answer(phone: Any, sid: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """The enterprise's phone answers the call Twilio was asked to place."""
    return phone.answer(url=data["Url"], status_callback=data["StatusCallback"],
                        to_number=data["To"], from_number=data["From"], call_sid=sid, **kwargs)
