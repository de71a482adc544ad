"""Voicemails as cases: the number reserved at the ``<Record>`` action, the case filed later.

The webhook only reserves the case number the caller hears (:func:`reserve_voicemail`, one
short transaction); :func:`file_pending_voicemails` files the reserved cases from a job with
exactly those numbers. Twilio may repeat the action request and the recording may reach us
only through the status callback or reconciliation (the fallback URL records without an
action), so every entry point is idempotent per recording and either one can file the case:
with the reservation's number when there is one, as a fresh filing otherwise.

Long on purpose: reservation and filing are one protocol (two entry points, each idempotent
per recording, either may file the case); split, the invariants between them would span
files.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    TextualSelect,
    bindparam,
    case,
    func,
    null,
    select,
    text,
    union,
    update,
)
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases import sms
from cases.actors import Actor
from cases.audit import record_event
from cases.call_log import CallLog, call_log
from cases.case_models import Case, CaseNumberCounter, CaseRecording, VoicemailReservation
from cases.duplicates import DUPLICATE_WINDOW, find_duplicate
from cases.duplicates import duplicate_query as _duplicate_query
from cases.enterprises import enterprises_for_phone, phone_or_none
from cases.errors import InvalidInput
from cases.events import CaseTextArrived, RecordingTranscribed, publish
from cases.fields import category_errors
from cases.intake import VOICEMAIL_PLACEHOLDER, file_case
from cases.models import Enterprise, EnterprisePhone
from cases.numbering import allocate_number, number_prefix, number_sql
from cases.services import zone
from cases.suggestions import store_suggestions
from cases.vocab import Channel
from core.db import db, is_lock_conflict, table_of
from core.dialect import is_postgresql, skip_locked
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)

VOICEMAIL_ACTOR = Actor("system", "8718热线留言")
EMPTY_TRANSCRIPT = "电话留言（未识别出语音内容，请收听录音）"
SID_MAX = 64
# Enough of a filing error to recognise it; the log has the traceback.
ERROR_MAX = 500


@dataclass
class VoicemailFiling:
    case: Case
    # True when the message was linked to an existing open case instead of a new one.
    linked: bool
    # False when this recording had been filed before (a retried request).
    created: bool


def _existing(session: Session, recording_id: int) -> CaseRecording | None:
    return session.scalars(
        select(CaseRecording).where(CaseRecording.recording_id == recording_id)
    ).one_or_none()


def _case_of_call(session: Session, call_id: int | None) -> Case | None:
    if call_id is None:
        return None
    return session.scalars(
        select(Case).join(CaseRecording).where(CaseRecording.call_id == call_id)
        .order_by(CaseRecording.id)
    ).first()


def _sole_enterprise_id(enterprises: list[Enterprise]) -> int | None:
    # A number shared by several enterprises identifies none of them.
    return enterprises[0].id if len(enterprises) == 1 else None


def _single_enterprise(phone: Any) -> Any:
    """The enterprise a phone identifies, as a scalar subquery: NULL when none or several.

    Like :func:`enterprises_for_phone` with one result (a number shared by several
    enterprises identifies none of them); the phones' foreign key makes the join needless.
    """
    return select(
        case((func.count() == 1, func.min(EnterprisePhone.enterprise_id)))
    ).where(EnterprisePhone.phone == phone).scalar_subquery()


def reserve_voicemail(
    session: Session,
    *,
    recording_sid: str,
    call_sid: str,
    caller: str | None,
    category: str | None,
    subcategory: str | None,
    now: datetime,
    tz: tzinfo | None = None,
) -> VoicemailReservation:
    """Reserve the case number to read back after a voicemail; does not commit.

    The number is the one filing the message now would give: an earlier message of the same
    call's, an open duplicate case's (重复诉求并单), an earlier unfiled message's from the same
    caller in the same category, else a new one from the day's counter (``linked`` is False
    only then). The counter is bumped in this transaction, so the webhook commits once. A
    retried request (same ``recording_sid``) gets the same reservation back, even when it
    races the first. One statement on PostgreSQL (:func:`_pg_reserve`), four on SQLite.
    Raises :class:`InvalidInput` for a menu choice no case could be filed under.
    """
    # Checked before a number is read back: the filing must not fail on it later.
    errors = category_errors(category, subcategory)
    if errors:
        raise InvalidInput(errors)
    recording_sid, call_sid = recording_sid.strip()[:SID_MAX], call_sid.strip()[:SID_MAX]
    phone = phone_or_none(caller)
    day = now.astimezone(zone(session, tz)).date()
    params = {"recording_sid": recording_sid, "call_sid": call_sid, "phone": phone,
              "category": category, "since": now - DUPLICATE_WINDOW}
    row = {"recording_sid": recording_sid, "call_sid": call_sid, "caller": phone,
           "category": category, "subcategory": subcategory, "reserved_at": now}
    if is_postgresql(session):
        reservation = session.scalars(
            select(VoicemailReservation).from_statement(
                _pg_reserve(phone is not None, call_log(session))),
            {**params, **row, "day": day, "number_prefix": number_prefix(day)},
            execution_options={"populate_existing": True},
        ).one_or_none()
    else:
        reservation = _reserve_in_steps(session, params, row, day)
    if reservation is None:
        # A concurrent retry won the race: its number stands, ours is a gap in the sequence.
        reservation = session.scalars(select(VoicemailReservation).where(
            VoicemailReservation.recording_sid == recording_sid)).one()
    return reservation


def reserve_voicemail_now(conn: Connection, **details: Any) -> VoicemailReservation:
    """:func:`reserve_voicemail` on ``conn``, committed before it returns.

    The ``<Record>`` webhook's way (``conn`` from :meth:`core.db.Database.run_quick`): on
    PostgreSQL in autocommit, where the reservation is one statement, so the caller waits
    for a single round trip, its commit included. The returned row is detached.
    """
    with db.new_session(bind=conn) as session:
        reservation = reserve_voicemail(session, **details)
        session.commit()
    return reservation


def _reserve_in_steps(session: Session, params: dict[str, Any], row: dict[str, Any],
                      day: date) -> VoicemailReservation | None:
    """SQLite (no data-modifying CTEs): lookup, counter and insert as separate statements."""
    # Write first: a deferred SQLite transaction that reads and then writes fails at once
    # if another connection committed in between; one that starts with a write waits.
    session.execute(update(CaseNumberCounter).where(CaseNumberCounter.day == day)
                    .values(last=CaseNumberCounter.last))
    found = session.execute(
        _number_lookup(params["phone"] is not None, call_log(session)), params).one()
    if found.existing is not None:
        return session.get_one(VoicemailReservation, found.existing)
    number = found.same_call or found.same_call_case or found.duplicate or found.pending
    linked = number is not None
    if number is None:
        number = allocate_number(session, day)
    return session.scalars(
        select(VoicemailReservation).from_statement(_RESERVE),
        {**row, "case_number": number, "linked": linked},
        execution_options={"populate_existing": True},
    ).one_or_none()


def _reserve_statement() -> TextualSelect:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING *`` as text: compiled once, then cached.

    (SQLAlchemy does not cache the dialect-specific ``insert()`` constructs; compiling one
    costs more than the round trip. PostgreSQL and SQLite 3.35+ share this syntax.)
    """
    table = table_of(VoicemailReservation)
    names = ["recording_sid", "call_sid", "caller", "category", "subcategory", "case_number",
             "linked", "reserved_at"]
    return (
        text(f"INSERT INTO {table.name} ({', '.join(names)}, attempts) "
             f"VALUES ({', '.join(':' + n for n in names)}, 0) "
             "ON CONFLICT (recording_sid) DO NOTHING "  # only a retry of this request
             f"RETURNING {', '.join(c.name for c in table.c)}")
        .bindparams(*[bindparam(n, type_=table.c[n].type) for n in names])
        .columns(*table.c)
    )


_RESERVE = _reserve_statement()
# The lookup's own parameters; its other bound values are constants (limits, statuses).
_LOOKUP_PARAMS = ("recording_sid", "call_sid", "phone", "category", "since")


@functools.lru_cache(maxsize=16)
def _pg_reserve(with_phone: bool, calls: CallLog) -> TextualSelect:
    """PostgreSQL: lookup, counter bump and insert as one statement (data-modifying CTEs).

    In autocommit that is the webhook's single round trip. The lookup is
    :func:`_number_lookup`'s, compiled once into the text; the counter is bumped only
    when no number is found to link to. Returns no row when a concurrent retry of the
    same recording inserted first (the caller then reads that row).
    """
    compiled = _number_lookup(with_phone, calls).params(dict.fromkeys(_LOOKUP_PARAMS)).compile(
        dialect=PGDialect(paramstyle="named"), compile_kwargs={"render_postcompile": True})
    constants = {key: getattr(value, "value", value) for key, value in compiled.params.items()
                 if key not in _LOOKUP_PARAMS}
    table, counters = table_of(VoicemailReservation), table_of(CaseNumberCounter).name
    columns = ", ".join(c.name for c in table.c)
    new_number = number_sql(":number_prefix", "bumped.last")
    sql = f"""
        WITH found AS ({compiled}),
        candidate AS (
            SELECT existing, coalesce(same_call, same_call_case, duplicate, pending) AS number
            FROM found),
        bumped AS (
            INSERT INTO {counters} (day, last)
            SELECT :day, 1 FROM candidate WHERE existing IS NULL AND number IS NULL
            ON CONFLICT (day) DO UPDATE SET last = {counters}.last + 1
            RETURNING last),
        inserted AS (
            INSERT INTO {table.name} (recording_sid, call_sid, caller, category, subcategory,
                                      case_number, linked, reserved_at, attempts)
            SELECT :recording_sid, :call_sid, :caller, :category, :subcategory,
                   coalesce(candidate.number, {new_number}), candidate.number IS NOT NULL,
                   :reserved_at, 0
            FROM candidate LEFT JOIN bumped ON true
            WHERE candidate.existing IS NULL
            ON CONFLICT (recording_sid) DO NOTHING
            RETURNING {columns})
        SELECT {columns} FROM inserted
        UNION ALL
        SELECT {columns} FROM {table.name} WHERE id = (SELECT existing FROM found)
    """
    typed = ("recording_sid", "call_sid", "caller", "category", "subcategory", "reserved_at")
    return (
        text(sql)
        .bindparams(*[bindparam(n, type_=table.c[n].type) for n in typed],
                    bindparam("day", type_=table_of(CaseNumberCounter).c.day.type),
                    *[bindparam(k, v) for k, v in constants.items()])
        .columns(*table.c)
    )


@functools.lru_cache(maxsize=16)
def _number_lookup(with_phone: bool, calls: CallLog) -> Select[Any]:
    """One row: this recording's reservation, else the candidate numbers to link to.

    Scalar subqueries in a single statement, so the webhook pays one round trip for all.
    Built once per shape with bound parameters: building it costs more than running it.
    """
    vr = VoicemailReservation
    recording_sid: BindParameter[str] = bindparam("recording_sid")
    call_sid: BindParameter[str] = bindparam("call_sid")
    existing = select(vr.id).where(vr.recording_sid == recording_sid)
    same_call = select(vr.case_number).where(vr.call_sid == call_sid).order_by(vr.id).limit(1)
    # A message of this call filed without a reservation (reconciliation, older releases).
    same_call_case = (
        select(Case.number)
        .join(CaseRecording, CaseRecording.case_id == Case.id)
        .where(CaseRecording.call_id.in_(calls.call_ids(call_sid)))
        .order_by(CaseRecording.id).limit(1)
    )
    columns: list[Any] = [
        existing.scalar_subquery().label("existing"),
        same_call.scalar_subquery().label("same_call"),
        same_call_case.scalar_subquery().label("same_call_case"),
    ]
    if not with_phone:
        columns += [null().label("duplicate"), null().label("pending")]
        return select(*columns)
    phone = bindparam("phone", type_=table_of(VoicemailReservation).c.caller.type)
    category: BindParameter[str | None] = bindparam("category")
    since: BindParameter[datetime] = bindparam("since")
    enterprise = _single_enterprise(phone)
    duplicate = _duplicate_query(phone=phone, enterprise_id=enterprise, category=category,
                                 since=since).with_only_columns(Case.number).limit(1)
    # An earlier message not filed yet: its case will be the duplicate (same caller rule).
    # One IN over a union, not an OR, so the unfiled-by-caller index answers it.
    same_caller = union(
        select(phone.label("phone")),
        select(EnterprisePhone.phone).where(EnterprisePhone.enterprise_id == enterprise),
    )
    pending = (
        select(vr.case_number)
        .where(vr.filed_at.is_(None), ~vr.linked, vr.category.is_not_distinct_from(category),
               vr.reserved_at >= since, vr.caller.in_(same_caller))
        .order_by(vr.reserved_at.desc(), vr.id.desc()).limit(1)
    )
    columns += [duplicate.scalar_subquery().label("duplicate"),
                pending.scalar_subquery().label("pending")]
    return select(*columns)


def file_voicemail(
    session: Session,
    *,
    recording_id: int,
    call_id: int | None,
    caller: str | None,
    category: str | None,
    subcategory: str | None,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
    recording_sid: str | None = None,
) -> VoicemailFiling:
    """The case for a voicemail: the one already filed for it, a linked duplicate, or a new one.

    A reserved recording is filed as reserved: a new case with the number read back, or
    linked to the case with that number (filing its owning reservation first if needed);
    its caller and menu choice are the reservation's, which the number was chosen on.
    """
    found = _existing(session, recording_id)
    if found is not None:
        return VoicemailFiling(found_case(session, found), found.duplicate, False)
    reservation = _reservation_of(session, recording_id, recording_sid)
    try:
        with session.begin_nested():
            if reservation is not None:
                filing = _file_reserved(session, reservation, recording_id, call_id, now,
                                        calendar, tz)
            else:
                filing = _file(session, recording_id, call_id, caller, category, subcategory,
                               now, calendar, tz)
    except IntegrityError:
        # A concurrent retry of the same request won the race; use its case.
        found = _existing(session, recording_id)
        if found is None:
            raise
        return VoicemailFiling(found_case(session, found), found.duplicate, False)
    return filing


def found_case(session: Session, link: CaseRecording) -> Case:
    case = session.get(Case, link.case_id)
    assert case is not None
    return case


def _reservation_of(session: Session, recording_id: int, recording_sid: str | None
                    ) -> VoicemailReservation | None:
    if recording_sid is None:
        source = call_log(session).recording(session, recording_id)
        if source is None:
            return None
        recording_sid = source.recording_sid
    return session.scalars(
        select(VoicemailReservation).where(VoicemailReservation.recording_sid == recording_sid)
    ).one_or_none()


def _file(session: Session, recording_id: int, call_id: int | None, caller: str | None,
          category: str | None, subcategory: str | None, now: datetime,
          calendar: WorkCalendar | None, tz: tzinfo | None) -> VoicemailFiling:
    phone = phone_or_none(caller)
    enterprises = enterprises_for_phone(session, phone)
    enterprise_id = _sole_enterprise_id(enterprises)
    same_call = _case_of_call(session, call_id)
    duplicate = same_call or find_duplicate(
        session, phone=phone, enterprise_id=enterprise_id, category=category, now=now
    )
    if duplicate is not None:
        _link(session, duplicate, recording_id, call_id, same_call=same_call is not None,
              now=now)
        return VoicemailFiling(duplicate, True, True)
    case = _new_case(session, recording_id, call_id, phone, category, subcategory, now,
                     calendar, tz, enterprises=enterprises)
    return VoicemailFiling(case, False, True)


def _link(session: Session, case: Case, recording_id: int, call_id: int | None, *,
          same_call: bool, now: datetime) -> None:
    """File the recording under an existing case (并单 or another message of the call)."""
    session.add(CaseRecording(case_id=case.id, recording_id=recording_id, call_id=call_id,
                              duplicate=not same_call, linked_at=now))
    session.flush()
    record_event(session, case, actor=VOICEMAIL_ACTOR, action="voicemail_linked",
                 now=now, after={"recording_id": recording_id, "call_id": call_id},
                 note="同一通话的留言" if same_call else "重复诉求并单")
    case.needs_review = True


def _new_case(session: Session, recording_id: int, call_id: int | None, phone: str | None,
              category: str | None, subcategory: str | None, now: datetime,
              calendar: WorkCalendar | None, tz: tzinfo | None, *,
              enterprises: list[Enterprise] | None = None, number: str | None = None,
              received_at: datetime | None = None) -> Case:
    if enterprises is None:
        enterprises = enterprises_for_phone(session, phone)
    enterprise_id = _sole_enterprise_id(enterprises)
    case = file_case(
        session,
        channel=Channel.HOTLINE_VOICEMAIL,
        description="",
        received_at=received_at,
        category=category,
        subcategory=subcategory,
        enterprise_id=enterprise_id,
        contact_name=enterprises[0].contact_name if enterprise_id is not None else None,
        contact_phone=phone,
        call_id=call_id,
        recording_id=recording_id,
        actor=VOICEMAIL_ACTOR,
        now=now,
        calendar=calendar,
        tz=tz,
        number=number,
    )
    session.add(CaseRecording(case_id=case.id, recording_id=recording_id, call_id=call_id,
                              linked_at=now))
    session.flush()
    sms.voicemail_filed(session, case, now)
    return case


def _file_reserved(session: Session, reservation: VoicemailReservation, recording_id: int,
                   call_id: int | None, now: datetime, calendar: WorkCalendar | None,
                   tz: tzinfo | None) -> VoicemailFiling:
    if reservation.linked:
        case = _case_numbered(session, reservation, now, calendar, tz)
        _link(session, case, recording_id, call_id,
              same_call=_same_call(session, reservation, call_id, case), now=now)
        filing = VoicemailFiling(case, True, True)
    else:
        # The caller was told of this case when reserving: that is when it was received.
        case = _new_case(session, recording_id, call_id, reservation.caller,
                         reservation.category, reservation.subcategory, now, calendar, tz,
                         number=reservation.case_number,
                         received_at=min(reservation.reserved_at, now))
        filing = VoicemailFiling(case, False, True)
    reservation.filed_at, reservation.case_id = now, case.id
    return filing


def _case_numbered(session: Session, reservation: VoicemailReservation, now: datetime,
                   calendar: WorkCalendar | None, tz: tzinfo | None) -> Case:
    """The case a linked reservation's number names, filing its owning reservation if needed."""
    number = reservation.case_number
    case = session.scalars(select(Case).where(Case.number == number)).one_or_none()
    if case is not None:
        return case
    owner = session.scalars(select(VoicemailReservation).where(
        VoicemailReservation.case_number == number,
        ~VoicemailReservation.linked)).one_or_none()
    if owner is None:
        raise LookupError(f"case number {number} belongs to no case and no reservation")
    return _file_reservation(session, owner, now, calendar, tz).case


def _same_call(session: Session, reservation: VoicemailReservation, call_id: int | None,
               case: Case) -> bool:
    """Whether the linked number came from an earlier message of the same call."""
    earlier = session.scalar(select(VoicemailReservation.id).where(
        VoicemailReservation.call_sid == reservation.call_sid,
        VoicemailReservation.id < reservation.id,
        VoicemailReservation.case_number == reservation.case_number).limit(1))
    if earlier is not None:
        return True
    of_call = _case_of_call(session, call_id)
    return of_call is not None and of_call.id == case.id


def _file_reservation(session: Session, reservation: VoicemailReservation, now: datetime,
                      calendar: WorkCalendar | None, tz: tzinfo | None) -> VoicemailFiling:
    """File a reservation, creating its call and recording rows if the log has none yet."""
    source = call_log(session).log_voicemail(
        session, call_sid=reservation.call_sid, recording_sid=reservation.recording_sid,
        caller=reservation.caller, at=reservation.reserved_at)
    filing = file_voicemail(
        session, recording_id=source.recording_id, call_id=source.call_id,
        caller=reservation.caller, category=reservation.category,
        subcategory=reservation.subcategory, now=now, calendar=calendar, tz=tz,
        recording_sid=source.recording_sid,
    )
    if reservation.filed_at is None:
        # Filed before without its reservation (e.g. by the transcript of the recording).
        reservation.filed_at, reservation.case_id = now, filing.case.id
    return filing


def file_pending_voicemails(
    session: Session,
    *,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
    limit: int = 100,
) -> int:
    """File up to ``limit`` unfiled reservations, oldest first; returns how many were filed.

    Id order files an owning reservation before those linked to it. Each one is filed in a
    savepoint: a failure is counted on the reservation (``attempts``, ``last_error``),
    logged, and retried by the next run. A lock conflict is no failure of the reservation:
    it is raised (the transaction is lost; the job runs again). Does not commit.
    """
    vr = VoicemailReservation
    # Concurrent runs (PostgreSQL) share the work instead of filing the same rows.
    pending = session.scalars(skip_locked(
        select(vr).where(vr.filed_at.is_(None)).order_by(vr.id).limit(limit))).all()
    filed = 0
    for reservation in pending:
        try:
            with session.begin_nested():
                _file_reservation(session, reservation, now, calendar, tz)
        except Exception as exc:
            if is_lock_conflict(exc):
                raise
            log.exception("could not file voicemail reservation %s (recording %s)",
                          reservation.id, reservation.recording_sid)
            reservation.attempts += 1
            reservation.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
            continue
        filed += 1
    session.flush()
    return filed


# A completed recording without a reservation waits this long before it is filed alone:
# the <Record> action that reserves a number may reach us after the status callback.
UNRESERVED_GRACE = timedelta(minutes=1)
UNRESERVED_WINDOW = timedelta(days=7)


def file_unreserved_voicemails(session: Session, *, now: datetime,
                               calendar: WorkCalendar | None = None, tz: tzinfo | None = None,
                               limit: int = 100) -> int:
    """File completed hotline recordings that have neither a case nor a reservation.

    Such messages were recorded through Twilio's fallback URL (the database was down, so
    nothing was reserved), or reached us only through the status callback or the Twilio
    listing. They become cases without waiting for a transcript, which may never come (no
    model, a failed download); a later transcript attaches to the case. Survey comments
    and outbound calls are left alone. Each in a savepoint; returns how many were filed.
    """
    sources = call_log(session).unfiled_voicemails(
        session, completed_after=now - UNRESERVED_WINDOW,
        completed_before=now - UNRESERVED_GRACE, limit=limit)
    filed = 0
    for source in sources:
        try:
            with session.begin_nested():
                file_voicemail(session, recording_id=source.recording_id,
                               call_id=source.call_id, caller=source.caller or None,
                               category=source.category, subcategory=source.subcategory,
                               now=now, calendar=calendar, tz=tz,
                               recording_sid=source.recording_sid)
        except Exception as exc:
            if is_lock_conflict(exc):
                raise  # not this message's fault: the job runs again
            log.exception("could not file unreserved voicemail recording %s",
                          source.recording_id)
            continue
        filed += 1
    session.flush()
    return filed


def transcript_ready(
    session: Session,
    recording_id: int,
    text: str,
    confidence: float,
    *,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
) -> Case | None:
    """Attach a transcript to the case of ``recording_id`` (filing one if none exists yet).

    The transcript becomes the case description (unless an operator already wrote one),
    routing suggestions are recomputed from it with their matched keywords, and the case is
    marked 待审核 for an operator. Calling it again with the same transcript changes nothing.
    Returns ``None`` if the recording does not exist.
    """
    source = call_log(session).recording(session, recording_id)
    if source is None:
        log.warning("transcript for unknown recording id %s", recording_id)
        return None
    if any(publish(RecordingTranscribed(session, recording_id, text, now))):
        return None  # claimed by a listener (e.g. a comment in a survey call), not a voicemail
    link = _existing(session, recording_id)
    if link is None:
        file_voicemail(
            session, recording_id=recording_id, call_id=source.call_id, caller=source.caller,
            category=source.category, subcategory=source.subcategory,
            now=now, calendar=calendar, tz=tz, recording_sid=source.recording_sid,
        )
        link = _existing(session, recording_id)
        assert link is not None
    case = found_case(session, link)
    text = (text or "").strip()
    if link.transcribed_at is not None and link.transcript == text \
            and link.confidence == confidence:
        return case
    previous = link.transcript
    link.transcript, link.confidence, link.transcribed_at = text, confidence, now
    # Only the case's own recording writes the description; linked ones add to suggestions.
    primary = case.recording_id == recording_id
    if primary and case.description in (VOICEMAIL_PLACEHOLDER, EMPTY_TRANSCRIPT, previous):
        case.description = text or EMPTY_TRANSCRIPT
    case.needs_review = True
    record_event(session, case, actor=VOICEMAIL_ACTOR, action="transcript_attached", now=now,
                 before={"transcript": previous} if previous is not None else {},
                 after={"recording_id": recording_id, "transcript": text,
                        "confidence": round(confidence, 3)})
    session.flush()
    store_suggestions(session, case, _suggestion_text(session, case), source="transcript",
                      now=now)
    if text:
        publish(CaseTextArrived(session, case, text, "transcript", recording_id, now))
    return case


def _suggestion_text(session: Session, case: Case) -> str:
    """The description plus the transcripts of other messages linked to the case."""
    extra = session.scalars(
        select(CaseRecording.transcript).where(
            CaseRecording.case_id == case.id,
            CaseRecording.recording_id != case.recording_id,
            CaseRecording.transcript.is_not(None))
        .order_by(CaseRecording.id)
    )
    return "\n".join([case.description, *extra])
