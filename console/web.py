"""Small helpers shared by the console's handlers: clock, actor, calendar, forms, PRG."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, request

from cases.actors import Actor
from cases.errors import CaseError, InvalidInput, http_status
from console.auth import current_user
from console.forms import note_errors
from console.models import User
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db
from core.settings import setting
from workdays.calendar import WorkCalendar


def now() -> datetime:
    return clock_of(current_app.config)()


def tz() -> ZoneInfo:
    return hotline_zone(current_app.config)


def today() -> date:
    return now().astimezone(tz()).date()


def stuck_after() -> timedelta:
    """How long a recording may wait for its transcription before a person should look."""
    return timedelta(minutes=int(setting(current_app.config, "TRANSCRIPTION_STUCK_MINUTES")))


def calendar() -> WorkCalendar:
    """The working-day calendar with the administrator's overrides (cached per process)."""
    return current_app.extensions["calendars"].get()


def user() -> User:
    """The signed-in user; the blueprint's access check guarantees there is one."""
    found = current_user()
    if found is None:
        abort(401)
    return found


def actor() -> Actor:
    """The signed-in user as the case domain's :class:`Actor` (written into the audit trail)."""
    account = user()
    label = f"{account.display_name}（{account.username}）"
    return Actor(account.role, label, account.department_id)  # type: ignore[arg-type]


def text(name: str) -> str:
    """A form field, trimmed, line breaks as ``\\n`` (browsers send a textarea's as CRLF)."""
    return normalize_newlines(request.form.get(name) or "").strip()


def normalize_newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def optional(name: str) -> str | None:
    return text(name) or None


def integer(name: str, label: str) -> int:
    try:
        return int(text(name))
    except ValueError:
        raise InvalidInput({name: f"请选择{label}"}) from None


def integers(name: str) -> list[int]:
    values: list[int] = []
    for raw in request.form.getlist(name):
        try:
            values.append(int(raw))
        except ValueError:
            continue
    return values


def local_datetime(name: str, label: str) -> datetime:
    """A ``datetime-local`` input (``YYYY-MM-DDTHH:MM``) as an aware datetime in local time."""
    try:
        value = datetime.fromisoformat(text(name))
    except ValueError:
        raise InvalidInput({name: f"请填写{label}"}) from None
    return value.replace(tzinfo=tz()) if value.tzinfo is None else value


def day(name: str, label: str) -> date:
    try:
        return date.fromisoformat(text(name))
    except ValueError:
        raise InvalidInput({name: f"请填写{label}（年-月-日）"}) from None


def checkbox(name: str) -> bool:
    return request.form.get(name) in {"1", "on", "true", "yes"}


def perform(action: Callable[[], Any], *, success: str | Callable[[Any], str],
            redirect_to: str | Callable[[Any], str],
            on_error: Callable[[], Any]) -> Any:
    """Run one domain call, commit, flash, redirect (PRG).

    A :class:`CaseError` rolls back, flashes its Chinese message and answers with
    ``on_error()`` (the page the form was on, drawn again with what the user typed and each
    field's message next to it: :mod:`console.forms`) and the error's 4xx status.
    """
    try:
        result = action()
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        if isinstance(exc, InvalidInput):
            note_errors(exc.fields)
        flash(exc.message, "error")
        return on_error(), http_status(exc)
    flash(success(result) if callable(success) else success, "success")
    target = redirect_to(result) if callable(redirect_to) else redirect_to
    return redirect(target, code=303)
