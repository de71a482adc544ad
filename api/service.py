"""What the API endpoints do, in plain values: validation, idempotency, intake, documents."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import ApiToken, IdempotencyRecord
from api.schemas import parse_case_request
from cases.actors import Actor
from cases.case_models import Case
from cases.enterprises import find_or_register_enterprise
from cases.errors import CaseError, NotFound
from cases.intake import file_case
from cases.queries import case_by_number
from cases.vocab import (
    ASSIGNMENT_STATE_LABELS,
    CHANNEL_LABELS,
    LEDGER_LABELS,
    MODE_LABELS,
    REPLY_KIND_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    AssignmentState,
)
from core.centre import CENTRE_NAME
from workdays.calendar import WorkCalendar

MAX_KEY_LENGTH = 200


class IdempotencyConflict(CaseError):
    """The ``Idempotency-Key`` was already used for a different request."""

    code = "idempotency_conflict"


@dataclass
class ApiResult:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def case_location(number: str) -> str:
    return f"/api/v1/cases/{number}"


def _request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _claim_key(session: Session, token: ApiToken, key: str, digest: str, now: datetime
               ) -> IdempotencyRecord | ApiResult:
    """Our record for ``key``, or the stored result when the key was used before."""
    record = IdempotencyRecord(token_id=token.id, key=key, request_hash=digest, created_at=now)
    try:
        # A concurrent request with the same key waits here (PostgreSQL) until the first
        # one commits, then finds its record.
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        existing = session.scalars(select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == token.id, IdempotencyRecord.key == key)).one()
        if existing.request_hash != digest or existing.response is None:
            raise IdempotencyConflict("该 Idempotency-Key 已用于另一个请求") from None
        return ApiResult(existing.status_code or 201, existing.response, replayed=True,
                         headers={"Location": case_location(existing.response["number"])})
    return record


def submit_case(
    session: Session,
    *,
    token: ApiToken,
    payload: Any,
    idempotency_key: str | None,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
) -> ApiResult:
    """``POST /cases``: file a case for the token's channel (201), or replay a retried one."""
    request = parse_case_request(payload, now)
    record = None
    if idempotency_key:
        claimed = _claim_key(session, token, idempotency_key, _request_hash(payload), now)
        if isinstance(claimed, ApiResult):
            return claimed
        record = claimed
    enterprise = find_or_register_enterprise(
        session, name=request.enterprise_name, uscc=request.enterprise_uscc, now=now
    )
    case = file_case(
        session,
        channel=token.channel,
        description=request.description,
        received_at=request.received_at,
        category=request.category,
        subcategory=request.subcategory,
        enterprise_id=enterprise.enterprise.id if enterprise else None,
        contact_name=request.contact_name,
        contact_phone=request.contact_phone,
        actor=Actor("api", f"接口：{token.name}"),
        now=now,
        calendar=calendar,
        tz=tz,
    )
    body = {**_summary(case), "warnings": enterprise.warnings if enterprise else []}
    if record is not None:
        record.case_id, record.status_code, record.response = case.id, 201, body
    return ApiResult(201, body, headers={"Location": case_location(case.number)})


def _summary(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "channel": case.channel,
        "channel_label": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": case.status,
        "status_label": STATUS_LABELS[case.status],
        "received_at": case.received_at.isoformat(),
        "due_date": case.due_date.isoformat() if case.due_date else None,
        "due_provisional": case.due_provisional,
    }


def case_status(session: Session, *, token: ApiToken, number: str) -> dict[str, Any]:
    """``GET /cases/<number>``: a case filed through the token's channel (others are 404)."""
    case = case_by_number(session, number)
    if case is None or case.channel != token.channel:
        raise NotFound("未找到该诉求")
    departments = [
        {
            "name": a.department.name,
            "role": a.role,
            "role_label": ROLE_LABELS[a.role],
            "state": a.state,
            "state_label": ASSIGNMENT_STATE_LABELS[a.state],
            "due_date": a.due_date.isoformat() if a.due_date else None,
        }
        for a in case.assignments
        if a.round == case.rework_count and a.state != AssignmentState.WITHDRAWN
    ]
    last = case.replies[-1] if case.replies else None
    merged_into = session.get(Case, case.merged_into_id) if case.merged_into_id else None
    return {
        **_summary(case),
        "category": case.category,
        "subcategory": case.subcategory,
        "mode": case.mode,
        "mode_label": MODE_LABELS.get(case.mode or "", None),
        "ledger_state": case.ledger_state,
        "ledger_label": LEDGER_LABELS[case.ledger_state],
        "departments": departments,
        # 并单: the earlier case this request is handled under (the enterprise was told).
        "merged_into": merged_into.number if merged_into is not None else None,
        "last_reply": None if last is None else {
            "kind": last.kind,
            "kind_label": REPLY_KIND_LABELS.get(last.kind, last.kind),
            "text": last.text,
            "policy_basis": last.policy_basis,
            "department": last.department.name if last.department else CENTRE_NAME,
            "replied_at": last.replied_at.isoformat(),
        },
    }
