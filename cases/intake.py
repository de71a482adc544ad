"""The one intake service: every channel (API, console, voicemail, importer) files cases here."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from call_flows.workdays import WorkCalendar
from cases.actors import Actor
from cases.audit import record_event, snapshot
from cases.case_models import Case
from cases.deadlines import Deadlines, calendar_for
from cases.errors import InvalidInput
from cases.models import Enterprise
from cases.numbering import allocate_number
from cases.phones import InvalidPhone, normalize_phone
from cases.routing import CATEGORIES, SUBCATEGORIES
from cases.suggestions import store_suggestions
from cases.vocab import CHANNEL_CODES, Channel, Ledger, Status

MAX_DESCRIPTION = 5000
# A voicemail is filed before it is transcribed; the transcript replaces this text.
VOICEMAIL_PLACEHOLDER = "电话留言（待转写）"
# Clocks of other channels drift; a received_at this far ahead of now is still accepted.
FUTURE_TOLERANCE = timedelta(minutes=5)

FILED_FIELDS = (
    "number", "channel", "category", "subcategory", "enterprise_id", "contact_name",
    "contact_phone", "description", "call_id", "recording_id", "status", "received_at",
    "due_date", "due_provisional", "ledger_state",
)


def validate_category(category: str | None, subcategory: str | None) -> dict[str, str]:
    """Field errors for a category/subcategory pair (empty if fine)."""
    errors: dict[str, str] = {}
    if category is not None and category not in CATEGORIES:
        choices = "、".join(f"{k}（{v}）" for k, v in CATEGORIES.items())
        errors["category"] = f"诉求类别应为：{choices}"
    elif subcategory is not None:
        allowed = SUBCATEGORIES.get(category or "", {})
        if subcategory not in allowed:
            errors["subcategory"] = (
                "该类别下没有此子类" if allowed or category
                else "填写子类时请同时填写类别"
            )
    return errors


def file_case(
    session: Session,
    *,
    channel: str,
    description: str,
    received_at: datetime | None = None,
    category: str | None = None,
    subcategory: str | None = None,
    enterprise_id: int | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    call_id: int | None = None,
    recording_id: int | None = None,
    actor: Actor,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
    number: str | None = None,
) -> Case:
    """Register a case (受理): validate, number it, set the same-day deadline, audit, suggest.

    ``received_at`` defaults to ``now``; channels that collected the request earlier (a forum,
    a visit) pass when it was raised. The number uses the local date of ``now``, the day the
    centre registered it; ``number`` is one reserved earlier (a voicemail's, already read
    back to the caller) and is used instead. Raises :class:`InvalidInput` with per-field
    Chinese messages.
    """
    errors: dict[str, str] = {}
    if channel not in CHANNEL_CODES:
        errors["channel"] = "未知的受理渠道"
    text = (description or "").strip()
    if not text and channel == Channel.HOTLINE_VOICEMAIL:
        text = VOICEMAIL_PLACEHOLDER
    if not text:
        errors["description"] = "请填写诉求内容"
    elif len(text) > MAX_DESCRIPTION:
        errors["description"] = f"诉求内容不能超过{MAX_DESCRIPTION}字"
    errors.update(validate_category(category, subcategory))
    received = received_at or now
    if received.tzinfo is None:
        errors["received_at"] = "受理时间须带时区"
    elif received > now + FUTURE_TOLERANCE:
        errors["received_at"] = "受理时间不能晚于当前时间"
    phone = None
    if contact_phone and contact_phone.strip():
        try:
            phone = normalize_phone(contact_phone)
        except InvalidPhone as exc:
            errors["contact_phone"] = exc.message
    name = (contact_name or "").strip() or None
    if name and len(name) > 64:
        errors["contact_name"] = "联系人不能超过64字"
    if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
        errors["enterprise_id"] = "企业不存在"
    if errors:
        raise InvalidInput(errors)

    deadlines = Deadlines(calendar or calendar_for(session), tz)
    # The centre's same-day duty runs from when the centre got it, not when it was raised.
    due = deadlines.same_day(now)
    case = Case(
        number=number or allocate_number(session, deadlines.local_date(now)),
        channel=channel,
        category=category,
        subcategory=subcategory,
        enterprise_id=enterprise_id,
        contact_name=name,
        contact_phone=phone,
        description=text,
        call_id=call_id,
        recording_id=recording_id,
        status=Status.RECEIVED,
        received_at=received,
        received_on=deadlines.local_date(received),
        due_date=due.day,
        due_provisional=due.provisional,
        due_reason=due.reason,
        ledger_state=Ledger.OPEN,
        created_by=actor.name[:100],
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    record_event(session, case, actor=actor, action="filed", now=now,
                 after=snapshot(case, FILED_FIELDS))
    if text != VOICEMAIL_PLACEHOLDER:
        store_suggestions(session, case, text, source="description", now=now)
    return case
