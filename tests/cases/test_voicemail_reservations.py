"""Voicemail reservations: the number read back in the webhook, the case filed by a job."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from call_flows.hooks import CallContext
from cases import sms, voicemail
from cases.case_models import Case, CaseNumberCounter, CaseRecording, VoicemailReservation
from cases.enterprises import register_enterprise
from cases.errors import InvalidInput
from cases.voicemail import file_pending_voicemails, reserve_voicemail, transcript_ready
from core.db import db
from ivr.case_hooks import voicemail_saved
from ivr.models import Recording
from ivr.speech import spoken_case_number
from messaging.models import SmsMessage
from tests.cases.factories import (
    CALENDAR,
    actions,
    in_threads,
    local,
    new_case,
    voicemail_recording,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = local("2026-11-24 22:00")
CALLER = "+8613800138000"
_sids = iter(range(1, 1_000_000))


def reserve(session: Session, *, call_sid: str | None = None, recording_sid: str | None = None,
            caller: str | None = CALLER, category: str | None = "policy",
            subcategory: str | None = None, now: datetime = NOW) -> VoicemailReservation:
    """A reservation as the webhook makes it; a new call and recording unless given."""
    n = next(_sids)
    return reserve_voicemail(
        session, recording_sid=recording_sid or f"RE{n:032d}",
        call_sid=call_sid or f"CA{n:032d}", caller=caller, category=category,
        subcategory=subcategory, now=now,
    )


def file_pending(session: Session, now: datetime = NOW + timedelta(seconds=5)) -> int:
    return file_pending_voicemails(session, now=now, calendar=CALENDAR)


def case_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def reservation_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VoicemailReservation)) or 0


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements run inside the block: the session's engine and the webhooks' pool."""
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engines = {session.get_bind(), db.quick_engine} - {None}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", capture)


class NoCallId(dict):  # type: ignore[type-arg]
    """Hook services that fail the test if a hook asks for the call id."""

    def get(self, key: str, default: Any = None) -> Any:
        assert key != "call_id", "the deferred hook must not need the call id"
        return super().get(key, default)


def hook_context(*, recording_sid: str, call_sid: str, defer: bool,
                 caller: str = CALLER, category: str = "policy", call_id: int | None = None,
                 now: datetime = NOW) -> CallContext:
    services: dict[str, Any] = NoCallId(defer_voicemail_filing=True, tz=SHANGHAI) if defer else {
        "call_id": call_id, "tz": SHANGHAI}
    return CallContext(call_sid=call_sid, from_number=caller, now=now,
                       state={"category": category}, params={"RecordingSid": recording_sid},
                       services=services)


# --- choosing the number ---------------------------------------------------------------


def test_a_new_caller_gets_a_new_number_of_the_local_day(session: Session) -> None:
    reservation = reserve(session)
    assert (reservation.case_number, reservation.linked) == ("2611240001", False)


def test_a_retried_request_gets_the_same_reservation(session: Session) -> None:
    first = reserve(session, recording_sid="RE1", call_sid="CA1")
    again = reserve(session, recording_sid="RE1", call_sid="CA1")
    assert (again.id, again.case_number) == (first.id, first.case_number)
    assert reservation_count(session) == 1


def test_a_second_message_of_the_call_gets_its_number_linked(session: Session) -> None:
    first = reserve(session, call_sid="CA1")
    second = reserve(session, call_sid="CA1", category="special")
    assert (second.case_number, second.linked) == (first.case_number, True)


def test_an_open_duplicate_case_lends_its_number(session: Session) -> None:
    case = new_case(session, NOW - timedelta(days=6), contact_phone=CALLER, category="policy")
    reservation = reserve(session)
    assert (reservation.case_number, reservation.linked) == (case.number, True)


def test_a_case_of_the_enterprise_using_the_phone_is_a_duplicate(session: Session) -> None:
    enterprise = register_enterprise(session, name="宁波甲机械有限公司", phones=[CALLER],
                                     now=NOW).enterprise
    case = new_case(session, NOW - timedelta(days=1), enterprise_id=enterprise.id,
                    category="policy")
    assert reserve(session).case_number == case.number


def test_an_unfiled_earlier_message_lends_its_number(session: Session) -> None:
    first = reserve(session)
    second = reserve(session, now=NOW + timedelta(minutes=3))
    assert (second.case_number, second.linked) == (first.case_number, True)


def test_a_message_in_another_category_gets_a_new_number(session: Session) -> None:
    reserve(session, category="policy")
    assert reserve(session, category="special").case_number == "2611240002"


def test_an_earlier_message_over_seven_days_old_lends_nothing(session: Session) -> None:
    reserve(session, now=NOW - timedelta(days=8))
    assert reserve(session).linked is False


def test_messages_without_a_caller_number_are_never_linked(session: Session) -> None:
    reserve(session, caller=None)
    assert reserve(session, caller=None).linked is False


def test_an_unknown_menu_choice_reserves_no_number(session: Session) -> None:
    with pytest.raises(InvalidInput):
        reserve(session, category="nonsense")
    assert reservation_count(session) == 0


def test_a_new_caller_costs_one_statement_on_postgresql_four_on_sqlite(
    session: Session
) -> None:
    session.commit()
    with statements(session) as seen:
        reserve(session)
    work = [s for s in seen if s != "BEGIN"]  # SQLite's explicit BEGIN (core.db)
    # SQLite: lookup, counter, insert, after taking the write lock with a no-op update.
    dialect = session.get_bind().dialect.name
    assert len(work) == (1 if dialect == "postgresql" else 4), work


def test_concurrent_reservations_never_share_a_number(app: object) -> None:
    def caller(i: int) -> list[str]:
        numbers = []
        for j in range(10):
            with db.new_session() as own:
                numbers.append(reserve(own, caller=f"+86139{i:04d}{j:04d}").case_number)
                own.commit()
        return numbers

    numbers = [n for per_caller in in_threads(caller, 8) for n in per_caller]
    assert len(numbers) == len(set(numbers)) == 80


def test_concurrent_retries_share_one_reservation(app: object) -> None:
    barrier = threading.Barrier(6)

    def retry(_i: int) -> str:
        with db.new_session() as own:
            barrier.wait()
            number = reserve(own, recording_sid="RE-RACE", call_sid="CA-RACE").case_number
            own.commit()
            return number

    assert len(set(in_threads(retry, 6))) == 1
    with db.new_session() as check:
        assert reservation_count(check) == 1


# --- filing the reservations -----------------------------------------------------------


def test_pending_reservation_is_filed_with_its_number(session: Session) -> None:
    reservation = reserve(session, category="factor", subcategory="finance")
    assert file_pending(session) == 1
    case = session.scalars(select(Case)).one()
    assert (case.number, case.category, case.subcategory, case.contact_phone) == (
        reservation.case_number, "factor", "finance", CALLER)
    assert (reservation.case_id, reservation.filed_at) == (case.id, NOW + timedelta(seconds=5))


def test_filing_creates_the_call_and_recording_rows(session: Session) -> None:
    reservation = reserve(session)
    file_pending(session)
    recording = session.scalars(select(Recording)).one()
    case = session.scalars(select(Case)).one()
    assert recording.recording_sid == reservation.recording_sid
    assert (recording.call.call_sid, recording.call.from_number) == (
        reservation.call_sid, CALLER)
    assert (case.recording_id, case.call_id) == (recording.id, recording.call_id)
    # The status callback completes it (and queues its transcription), not the filing.
    assert recording.status == "in-progress"


def test_filed_case_was_received_when_the_number_was_read_back(session: Session) -> None:
    reserve(session)
    file_pending(session, now=NOW + timedelta(minutes=10))
    assert session.scalars(select(Case)).one().received_at == NOW


def test_filing_queues_the_receipt_with_the_number(session: Session) -> None:
    reservation = reserve(session)
    file_pending(session)
    message = session.scalars(select(SmsMessage)).one()
    assert (message.kind, message.to, message.params) == (
        "voicemail_filed", CALLER, {"number": reservation.case_number})


def test_linked_reservation_is_filed_after_its_owner_in_one_run(session: Session) -> None:
    owner = reserve(session)
    linked = reserve(session, now=NOW + timedelta(minutes=1))
    assert file_pending(session) == 2
    case = session.scalars(select(Case)).one()
    assert case.number == owner.case_number
    assert [r.duplicate for r in case.recordings] == [False, True]
    assert (owner.case_id, linked.case_id) == (case.id, case.id)
    assert "voicemail_linked" in actions(session, case)


def test_second_message_of_a_call_is_linked_as_the_same_call(session: Session) -> None:
    reserve(session, call_sid="CA1")
    reserve(session, call_sid="CA1")
    file_pending(session)
    case = session.scalars(select(Case)).one()
    assert [r.duplicate for r in case.recordings] == [False, False]


def test_reservation_linked_to_an_open_case_is_filed_under_it(session: Session) -> None:
    case = new_case(session, NOW - timedelta(days=2), contact_phone=CALLER, category="policy")
    reserve(session)
    file_pending(session)
    assert case_count(session) == 1
    assert [r.duplicate for r in case.recordings] == [True]
    assert case.needs_review is True


def test_linked_reservation_files_its_owner_first_if_needed(session: Session) -> None:
    recording = voicemail_recording(session)
    owner = reserve(session)
    linked = reserve(session, recording_sid=recording.recording_sid,
                     call_sid=recording.call.call_sid)
    # The second message's transcript arrives before the job ran.
    case = transcript_ready(session, recording.id, "咨询人才政策", 0.8, now=NOW)
    assert case is not None and case.number == owner.case_number == linked.case_number
    assert owner.filed_at is not None and linked.filed_at is not None


def test_a_failing_filing_stays_pending_and_is_counted(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("短信网关配置缺失")

    monkeypatch.setattr(sms, "voicemail_filed", broken)
    reservation = reserve(session)
    assert file_pending(session) == 0
    assert (reservation.filed_at, reservation.attempts) == (None, 1)
    assert reservation.last_error == "RuntimeError: 短信网关配置缺失"
    assert case_count(session) == 0


def test_a_failed_filing_is_filed_by_a_later_run(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    reservation = reserve(session)
    with monkeypatch.context() as patch:
        patch.setattr(sms, "voicemail_filed", lambda *a, **k: 1 / 0)
        file_pending(session)
    assert file_pending(session) == 1
    assert session.scalars(select(Case.number)).one() == reservation.case_number


def test_one_failure_does_not_stop_the_others(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = reserve(session, caller="+8613900139000")
    original = sms.voicemail_filed

    def picky(session: Session, case: Case, now: datetime) -> Any:
        if case.contact_phone == "+8613900139000":
            raise RuntimeError("boom")
        return original(session, case, now)

    monkeypatch.setattr(sms, "voicemail_filed", picky)
    reserve(session)
    assert file_pending(session) == 1
    assert failing.attempts == 1


def test_filed_reservations_are_not_filed_again(session: Session) -> None:
    reserve(session)
    file_pending(session)
    assert file_pending(session) == 0
    assert case_count(session) == 1


def test_transcript_of_a_reserved_recording_files_the_reserved_number(
    session: Session,
) -> None:
    recording = voicemail_recording(session)
    new_case(session, NOW)  # takes 2611240001: the reserved number must still be used
    reservation = reserve(session, recording_sid=recording.recording_sid,
                          call_sid=recording.call.call_sid)
    case = transcript_ready(session, recording.id, "咨询技改补贴", 0.9, now=NOW)
    assert case is not None
    assert (case.number, case.description) == (reservation.case_number, "咨询技改补贴")
    assert reservation.case_id == case.id
    assert file_pending(session) == 0


# --- the webhook hook ------------------------------------------------------------------


def test_deferred_hook_reads_back_the_number_without_filing(session: Session) -> None:
    ctx = hook_context(recording_sid="RE1", call_sid="CA1", defer=True)
    with statements(session) as seen:
        result = voicemail_saved(ctx, None)
    assert spoken_case_number("2611240001") in result.prompts[0]
    assert case_count(session) == 0
    # The reservation was written (so the capture works), and nothing touched recordings.
    assert any(re.search(r"\bINSERT INTO voicemail_reservations\b", s) for s in seen), seen
    assert not any(re.search(r"\brecordings\b", s) for s in seen)


def test_deferred_reservation_is_filed_by_the_job_with_that_number(session: Session) -> None:
    voicemail_saved(hook_context(recording_sid="RE1", call_sid="CA1", defer=True), None)
    session.commit()
    file_pending(session)
    case = session.scalars(select(Case)).one()
    recording = session.scalars(select(Recording).where(Recording.recording_sid == "RE1")).one()
    assert (case.number, case.recording_id) == ("2611240001", recording.id)
    link = session.scalars(select(CaseRecording)).one()
    assert link.recording_id == recording.id


def test_deferred_hook_reads_back_a_linked_number_as_linked(session: Session) -> None:
    new_case(session, NOW - timedelta(days=1), contact_phone=CALLER, category="policy")
    session.commit()
    result = voicemail_saved(hook_context(recording_sid="RE1", call_sid="CA1", defer=True),
                             None)
    assert "并入该诉求" in result.prompts[0]


def test_deferred_hook_failure_says_nothing_and_keeps_the_session_usable(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, **_details: Any) -> VoicemailReservation:
        session.execute(text("SELECT * FROM no_such_table"))  # aborts a PostgreSQL transaction
        raise AssertionError("unreachable")

    monkeypatch.setattr(voicemail, "reserve_voicemail", broken)
    ctx = hook_context(recording_sid="RE1", call_sid="CA1", defer=True)
    assert voicemail_saved(ctx, None).prompts == []
    assert reservation_count(session) == 0


def test_deferred_hook_commits_the_reservation_before_answering(session: Session) -> None:
    voicemail_saved(hook_context(recording_sid="RE1", call_sid="CA1", defer=True), None)
    with db.new_session() as other:
        assert other.scalars(select(VoicemailReservation.case_number)).one() == "2611240001"


def test_immediate_hook_files_the_case_in_the_request(session: Session) -> None:
    recording = voicemail_recording(session)
    ctx = hook_context(recording_sid=recording.recording_sid,
                       call_sid=recording.call.call_sid, defer=False,
                       call_id=recording.call_id)
    result = voicemail_saved(ctx, None)
    case = session.scalars(select(Case)).one()
    assert spoken_case_number(case.number) in result.prompts[0]
    assert case.recording_id == recording.id
    assert session.scalars(select(VoicemailReservation)).one().case_id == case.id


def test_immediate_hook_keeps_the_reservation_when_filing_fails(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms, "voicemail_filed", lambda *a, **k: 1 / 0)
    recording = voicemail_recording(session)
    ctx = hook_context(recording_sid=recording.recording_sid,
                       call_sid=recording.call.call_sid, defer=False,
                       call_id=recording.call_id)
    result = voicemail_saved(ctx, None)
    assert spoken_case_number("2611240001") in result.prompts[0]
    assert case_count(session) == 0
    assert session.scalars(select(VoicemailReservation)).one().filed_at is None


def test_a_day_past_9999_numbers_reserves_five_digit_sequences(session: Session) -> None:
    session.add(CaseNumberCounter(day=date(2026, 11, 24), last=9999))
    session.commit()
    assert reserve(session).case_number == "26112410000"
