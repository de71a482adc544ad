"""The one intake service: every channel (API, console, voicemail, importer) files cases here."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.audit import record_event, snapshot
from cases.case_models import Case
from cases.deadlines import Deadlines, calendar_for
from cases.events import CaseTextArrived, publish
from cases.fields import (
    FieldErrors,
    category_errors,
    clean_contact_name,
    clean_contact_phone,
    clean_description,
)
from cases.models import Enterprise
from cases.numbering import allocate_number
from cases.services import services, zone
from cases.suggestions import store_suggestions
from cases.vocab import CHANNEL_CODES, Channel, Ledger, Status
from workdays.calendar import WorkCalendar

# A voicemail is filed before it is transcribed; the transcript replaces this text.
VOICEMAIL_PLACEHOLDER = "电话留言（待转写）"
# Clocks of other channels drift; a received_at this far ahead of now is still accepted.
FUTURE_TOLERANCE = timedelta(minutes=5)

FILED_FIELDS = (
    "number", "channel", "category", "subcategory", "enterprise_id", "contact_name",
    "contact_phone", "description", "call_id", "recording_id", "status", "received_at",
    "due_date", "due_provisional", "ledger_state",
)


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
    registered_at: datetime | None = None,
) -> Case:
    """Register a case (受理): validate, number it, set the same-day deadline, audit, suggest.

    ``received_at`` defaults to ``now``; channels that collected the request earlier (a forum,
    a visit) pass when it was raised. The number and the centre's same-day deadline use the
    local date of ``registered_at``, when the centre took the case in (default ``now``; a
    spreadsheet of requests the centre collected passes their receipt time, so a case
    received on 12-03 and imported later is numbered and due as of 12-03); ``number`` is one
    reserved earlier (a voicemail's, already read back to the caller) and is used instead.
    Raises :class:`InvalidInput` with per-field Chinese messages.
    """
    errors = FieldErrors()
    if channel not in CHANNEL_CODES:
        errors.add({"channel": "未知的受理渠道"})
    if channel == Channel.HOTLINE_VOICEMAIL and not (description or "").strip():
        description = VOICEMAIL_PLACEHOLDER
    text = errors.clean(lambda: clean_description(description)) or ""
    errors.add(category_errors(category, subcategory))
    received = received_at or now
    if received.tzinfo is None:
        errors.add({"received_at": "受理时间须带时区"})
    elif received > now + FUTURE_TOLERANCE:
        errors.add({"received_at": "受理时间不能晚于当前时间"})
    phone = errors.clean(lambda: clean_contact_phone(contact_phone))
    name = errors.clean(lambda: clean_contact_name(contact_name))
    if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
        errors.add({"enterprise_id": "企业不存在"})
    errors.raise_any()

    deadlines = Deadlines(calendar or calendar_for(session), zone(session, tz),
                     services(session).closes_at)
    # The centre's same-day duty runs from when the centre got it, not when it was raised.
    registered = min(registered_at or now, now)
    due = deadlines.same_day(registered)
    case = Case(
        number=number or allocate_number(session, deadlines.local_date(registered)),
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
    # A voicemail's placeholder has no words, but the caller's menu choice is evidence.
    store_suggestions(session, case, "" if text == VOICEMAIL_PLACEHOLDER else text,
                      source="description", now=now)
    if text != VOICEMAIL_PLACEHOLDER:
        publish(CaseTextArrived(session, case, text, "description", None, now))
    return case
