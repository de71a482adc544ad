"""Jinja filters and globals for the console (local times, labels, working days left)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, get_flashed_messages

from console import labels
from console.auth import current_user
from console.forms import posted
from console.models import ROLE_LABELS
from console.recording_state import model_wait_notice, problem_of
from core.centre import CENTRE_NAME

LOW_CONFIDENCE = 0.6
# Ids and raw lists in audit events that mean nothing to a reader.
HIDDEN_AUDIT_KEYS = frozenset({"assignment_id", "department_id", "recording_id",
                               "withdrawn_department_ids", "edits", "call_id", "department_ids",
                               "followup_id", "call_sid", "escalation_id",
                               # the number of the case merged into (merged_into_id is shown)
                               "merged_into"})


def audit_keys(event: Any) -> list[str]:
    """The changed fields of an audit event worth showing, in a stable order."""
    keys = dict.fromkeys([*event.before, *event.after])
    return [k for k in keys if k not in HIDDEN_AUDIT_KEYS]


def init_app(app: Flask) -> None:
    from console import web

    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(web.tz()).strftime(fmt) if value else ""

    def days_left(due: date | None) -> int | None:
        """Working days from today to ``due``: negative when overdue."""
        if due is None:
            return None
        return web.calendar().working_days_between(web.today(), due)

    def label(value: Any, kind: str) -> str:
        if value is None:
            return ""
        return labels.VALUE_LABELS.get(kind, {}).get(str(value), str(value))

    def shown(value: Any, kind: str, names: dict[str, dict[Any, str]] | None = None) -> str:
        """An audit value as people read it; ``names`` maps ids (e.g. ``enterprise_id``)."""
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, list):
            return "、".join(shown(v, kind, names) for v in value)
        if names and kind in names:
            return names[kind].get(value, f"（已删除的记录 {value}）")
        if kind == "score" and isinstance(value, int):
            return f"{value}（{labels.RATING_LABELS.get(value, '')}）"
        if (kind == "at" or kind.endswith("_at")) and isinstance(value, str):
            try:
                return localtime(datetime.fromisoformat(value))
            except ValueError:
                return value
        return label(value, kind) if isinstance(value, str) else str(value)

    def unread_notifications() -> int:
        """Unread notifications of the signed-in user's inbox (0 for operators)."""
        from cases.notifications import unread_count
        from console.views_notifications import INBOX_ROLES, inbox_of
        from core.db import db

        account = current_user()
        if account is None or account.role not in INBOX_ROLES:
            return 0
        audience, department_id = inbox_of(account)
        return unread_count(db.session, audience, department_id=department_id)

    def model_notice() -> str | None:
        """Operators hear why voicemails have no transcript yet (no model, or downloading)."""
        from core.db import db

        account = current_user()
        if account is None or account.role not in ("operator", "supervisor", "admin"):
            return None
        return model_wait_notice(db.session, app.config)

    app.jinja_env.filters.update(localtime=localtime, label=label, days_left=days_left,
                                 shown=shown, audit_keys=audit_keys)

    @app.context_processor
    def console_globals() -> dict[str, Any]:
        return {
            "current_user": current_user,
            "posted": posted,
            "flashes": lambda: get_flashed_messages(with_categories=True),
            "labels": labels,
            "ROLE_LABELS": ROLE_LABELS,
            "CENTRE_NAME": CENTRE_NAME,
            "LOW_CONFIDENCE": LOW_CONFIDENCE,
            "today": web.today,
            "unread_notifications": unread_notifications,
            "model_notice": model_notice,
            "recording_problem": lambda recording: problem_of(recording, web.now(),
                                                              web.stuck_after()),
        }
