"""Small builders for case tests: local times, actors, cases in a given state, audio."""

from __future__ import annotations

import struct
import threading
import wave
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply
from cases.actions.triage import do_route_to_department
from cases.actors import Actor
from cases.case_models import Assignment, Case, CaseEvent
from cases.intake import file_case
from cases.models import Department
from core.clock import parse_local
from ivr.models import Call, Recording
from workdays.calendar import WorkCalendar

CALENDAR = WorkCalendar()
OPERATOR = Actor("operator", "小王")
SUPERVISOR = Actor("supervisor", "专班张组长")


def local(text: str) -> datetime:
    """``"2026-10-08 09:00"`` in Asia/Shanghai, as aware UTC."""
    return parse_local(text, "Asia/Shanghai").astimezone(UTC)


def department_id(session: Session, name: str) -> int:
    return session.scalars(select(Department.id).where(Department.name == name)).one()


def liaison(session: Session, name: str) -> Actor:
    """A department actor (联络员) of the named department."""
    return Actor("department", f"{name}联络员", department_id(session, name))


def new_case(session: Session, now: datetime, description: str = "企业咨询用电增容的办理流程",
             **fields: object) -> Case:
    fields.setdefault("channel", "window")
    return file_case(session, description=description, actor=OPERATOR, now=now,
                     calendar=CALENDAR, **fields)  # type: ignore[arg-type]


def routed_case(session: Session, now: datetime, department: str = "区经信局") -> Case:
    case = new_case(session, now)
    return do_route_to_department(session, case.id,
                                  department_id=department_id(session, department),
                                  actor=OPERATOR, now=now, calendar=CALENDAR)


def answered_case(session: Session, now: datetime, department: str = "区经信局") -> Case:
    case = routed_case(session, now, department)
    do_reply(session, case.assignments[0].id, text="已答复企业", actor=liaison(
        session, department), now=now, calendar=CALENDAR)
    return case


def lead(case: Case) -> Assignment:
    """The current lead assignment (the latest one, after re-routing or rework)."""
    return [a for a in case.assignments if a.role == "lead"][-1]


def actions(session: Session, case: Case) -> list[str]:
    """The audit trail's actions, oldest first."""
    return list(session.scalars(
        select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def write_wav(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    """A quiet mono 16-bit PCM WAV, like a Twilio voicemail."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return path


def voicemail_recording(session: Session, *, caller: str = "+8613800138000",
                        category: str | None = "policy", subcategory: str | None = None,
                        now: datetime | None = None) -> Recording:
    """A call that left a voicemail: the rows the IVR writes before the hook runs."""
    global _sids
    _sids += 1
    started = now or local("2026-11-24 22:00")
    call = Call(call_sid=f"CA{_sids:032d}", from_number=caller, category=category,
                subcategory=subcategory, started_at=started)
    recording = Recording(recording_sid=f"RE{_sids:032d}", call=call, status="completed",
                          created_at=started)
    session.add_all([call, recording])
    session.flush()
    return recording


_sids = 0


T = TypeVar("T")


def in_threads(work: Callable[[int], T], count: int) -> list[T]:
    """Run ``work(0)`` … ``work(count - 1)`` in as many threads at once; their results.

    A thread's failure is raised here, so it fails the test.
    """
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
