"""The notifications inbox (通知): reminders, 催办, 督办 and poor ratings (差评重办).

A department user reads its department's notifications; supervisors and administrators read
the supervisors' inbox. Marking a notification outside one's inbox answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from cases.notifications import Audience, inbox, mark_read
from cases.vocab import RATING_LABELS
from console import queries
from console.auth import DEPARTMENT, SUPERVISORS
from console.blueprint import route
from console.models import User
from console.web import now, user
from core.db import db

INBOX_ROLES = DEPARTMENT | SUPERVISORS
INBOX_PAGE = 50


def inbox_of(account: User) -> tuple[Audience, int | None]:
    """Which inbox the account reads: its department's, or the supervisors'."""
    if account.role == "department":
        return Audience.DEPARTMENT, account.department_id or 0
    return Audience.SUPERVISOR, None


def _reader(account: User) -> str:
    return f"{account.display_name}（{account.username}）"


@route("/notifications", roles=INBOX_ROLES)
def notifications() -> Any:
    audience, department_id = inbox_of(user())
    before = request.args.get("before", "")
    unread_only = request.args.get("unread") == "1"
    rows = inbox(db.session, audience, department_id=department_id, unread_only=unread_only,
                 limit=INBOX_PAGE + 1, before_id=int(before) if before.isdigit() else None)
    more = len(rows) > INBOX_PAGE
    rows = rows[:INBOX_PAGE]
    return render_template("console/notifications.html", rows=rows, unread_only=unread_only,
                           before_id=rows[-1].id if more and rows else None,
                           ratings=RATING_LABELS)


@route("/notifications/<int:notification_id>/read", roles=INBOX_ROLES, methods=("POST",))
def notification_read(notification_id: int) -> Any:
    account = user()
    audience, department_id = inbox_of(account)
    if queries.notification_in_inbox(db.session, notification_id, audience,
                                     department_id) is None:
        abort(404)
    if mark_read(db.session, notification_id, reader=_reader(account), now=now(),
                 audience=audience, department_id=department_id):
        flash("已标记为已读", "success")
    db.session.commit()
    return redirect(url_for("console.notifications"), code=303)


@route("/notifications/read-all", roles=INBOX_ROLES, methods=("POST",))
def notifications_read_all() -> Any:
    account = user()
    audience, department_id = inbox_of(account)
    count = queries.mark_all_read(db.session, audience, reader=_reader(account), now=now(),
                                  department_id=department_id)
    db.session.commit()
    flash(f"已将{count}条通知标记为已读" if count else "没有未读通知", "success")
    return redirect(url_for("console.notifications"), code=303)
