"""What the case domain gets from the app, carried by the session it works in.

``cases`` never imports the packages built on it (follow-up, extraction, the IVR, the
console), yet a step may need them: listeners that react to what happened
(:mod:`cases.events`), the liaison phones a department is texted on, the close of business
the centre's deadlines count from, the IVR's call log (:mod:`cases.call_log`). The app
factory builds them in one place (``app.create_app``: ``CASE_LISTENERS`` and the rest) and
gives them to the database it configures (``db.configure(url, session_info=...)``), so every
session carries the wiring of the app it came from. A session without it cannot publish or
text: it fails loudly instead of dropping a follow-up in silence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, tzinfo
from typing import Any

from sqlalchemy.orm import Session

# Liaison phones (E.164) of a department.
PhoneLookup = Callable[[Session, int], Sequence[str]]
INFO_KEY = "case_services"


def no_phones(_session: Session, _department_id: int) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class CaseServices:
    """The case domain's collaborators and settings, given by the app factory."""

    # The hotline's time zone (HOTLINE_TZ): local dates of deadlines, numbers, reminders.
    tz: tzinfo
    # Event type -> its listeners, called in this order (see cases.events).
    listeners: Mapping[type, tuple[Callable[[Any], Any], ...]] = field(default_factory=dict)
    liaison_phones: PhoneLookup = no_phones
    # The end of the centre's working day (the last office-hours window).
    closes_at: time = time(17, 30)
    # The IVR's call log (a cases.call_log.CallLog): voicemails become cases.
    call_log: Any = None

    def session_info(self) -> dict[str, Any]:
        """For ``db.configure(url, session_info=...)``."""
        return {INFO_KEY: self}


def zone(session: Session, tz: tzinfo | None = None) -> tzinfo:
    """``tz`` if the caller gives one, else the app's (never a built-in default)."""
    return tz if tz is not None else services(session).tz


def services(session: Session) -> CaseServices:
    """The services of the app this session belongs to."""
    found = session.info.get(INFO_KEY)
    if not isinstance(found, CaseServices):
        raise RuntimeError("this session has no case services: sessions come from core.db.db, "
                           "configured by app.create_app")
    return found
