"""字段建议: the operator accepts, edits or rejects a field read from the case's text."""

from __future__ import annotations

from typing import Any

from flask import abort

from console.auth import CENTRE
from console.blueprint import route
from console.views_cases import case_action
from console.web import actor, checkbox, now, optional, text
from core.db import db
from extraction.models import FieldSuggestion
from extraction.service import decide

MESSAGES = {"accepted": "已采纳建议", "edited": "已按修改后的值保存", "rejected": "已驳回建议"}


@route("/cases/<int:case_id>/suggestions/<int:suggestion_id>", roles=CENTRE,
       methods=("POST",))
def case_suggestion(case_id: int, suggestion_id: int) -> Any:
    row = db.session.get(FieldSuggestion, suggestion_id)
    if row is None or row.case_id != case_id:
        abort(404)
    decision = text("decision")

    def call() -> Any:
        return decide(db.session, suggestion_id, decision=decision, actor=actor(), now=now(),
                      value=optional("value"), replace=checkbox("replace"))

    return case_action(case_id, MESSAGES.get(decision, "已处理"), call)
