"""并单 on the case page: candidate duplicates, merge into an earlier case, unlink."""

from __future__ import annotations

from typing import Any

from flask import url_for

from cases import duplicates
from cases.case_models import Case
from console.auth import CENTRE
from console.blueprint import bp, route
from console.views_cases import case_action, case_page, visible_case
from console.web import actor, integer, now, perform, text, user
from core.db import db


def duplicate_panel(case: Case) -> dict[str, Any]:
    """What the case page's 并单 cards show. Departments see what the repeat requests merged
    into their case say (new information for the work), nothing to act on."""
    if user().role not in CENTRE:
        return {"candidates": [], "merged": duplicates.merged_cases(db.session, case),
                "into": None, "voicemails": [], "centre": False}
    into = db.session.get(Case, case.merged_into_id) if case.merged_into_id else None
    return {"candidates": duplicates.candidates(db.session, case),
            "merged": duplicates.merged_cases(db.session, case), "into": into,
            "voicemails": duplicates.linked_voicemails(case), "centre": True}


@bp.context_processor
def _duplicate_globals() -> dict[str, Any]:
    return {"duplicate_panel": duplicate_panel}


@route("/cases/<int:case_id>/merge", roles=CENTRE, methods=("POST",))
def case_merge(case_id: int) -> Any:
    return case_action(case_id, "已并单", lambda: duplicates.merge(
        db.session, case_id, into_id=integer("into_id", "要并入的诉求"), reason=text("reason"),
        actor=actor(), now=now()), tells_enterprise=True)


@route("/cases/<int:case_id>/unlink", roles=CENTRE, methods=("POST",))
def case_unlink(case_id: int) -> Any:
    return case_action(case_id, "已取消并单", lambda: duplicates.unlink(
        db.session, case_id, reason=text("reason"), actor=actor(), now=now()))


@route("/cases/<int:case_id>/voicemails/<int:link_id>/unlink", roles=CENTRE,
       methods=("POST",))
def voicemail_unlink(case_id: int, link_id: int) -> Any:
    visible_case(case_id)
    return perform(lambda: duplicates.unlink_voicemail(
        db.session, case_id, link_id, reason=text("reason"), actor=actor(), now=now()),
        success=lambda split: f"已取消并单，该留言另立诉求 {split.number}",
        redirect_to=lambda split: url_for("console.case_detail", case_id=split.id),
        on_error=lambda: case_page(case_id))
