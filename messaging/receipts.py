"""Texts to an enterprise about its case: filed, merged, unlinked, answered, progress.

Built from plain values (the case domain passes them, :mod:`cases.sms`); each is sent once:
its dedupe key names the case and the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from messaging.models import SmsMessage
from messaging.sms import send
from messaging.texts import CENTRE_NAME


def reply_params(*, unit: str | None, kind: str, text: str, policy_basis: str | None
                 ) -> dict[str, Any]:
    """One reply as a text's parameters (``unit`` None: the centre answered itself)."""
    return {"unit": unit or CENTRE_NAME, "kind": kind, "text": text,
            "policy_basis": policy_basis or ""}


def voicemail_filed(session: Session, *, case_id: int, number: str, phone: str | None,
                    now: datetime) -> SmsMessage | None:
    """Receipt for a new voicemail case, to the caller's mobile."""
    return send(session, kind="voicemail_filed", to=phone or "", params={"number": number},
                dedupe_key=f"filed:{case_id}", now=now, case_id=case_id)


def case_merged(session: Session, *, case_id: int, number: str, phone: str | None,
                earlier_id: int, earlier_number: str, earlier_phone: str | None,
                now: datetime) -> SmsMessage | None:
    """Tell the merged case's contact that the request is handled under the earlier case.

    The earlier case's number only when it has the same contact phone: a case filed by
    another contact (of the same enterprise, or one who says so) is not this phone's to know.
    """
    if phone and earlier_phone == phone:
        return send(session, kind="case_merged", to=phone,
                    params={"number": number, "earlier": earlier_number},
                    dedupe_key=f"merged:{case_id}:{earlier_id}", now=now, case_id=case_id)
    return send(session, kind="case_merged_other", to=phone or "", params={"number": number},
                dedupe_key=f"merged:{case_id}:{earlier_id}", now=now, case_id=case_id)


def case_unlinked(session: Session, *, case_id: int, number: str, phone: str | None,
                  now: datetime) -> SmsMessage | None:
    """After 取消并单: the case stands on its own again, under its own number (each undo
    texts once; a merge and undo later texts again)."""
    return send(session, kind="case_unlinked", to=phone or "", params={"number": number},
                dedupe_key=f"unlinked:{case_id}:{now.isoformat()}", now=now, case_id=case_id)


def case_answered(session: Session, *, case_id: int, number: str, phone: str | None,
                  handling_round: int, replies: Sequence[dict[str, Any]], now: datetime
                  ) -> SmsMessage | None:
    """Tell the enterprise its case was answered, with the answers (once per round)."""
    return send(session, kind="case_answered", to=phone or "",
                params={"number": number, "replies": list(replies)},
                dedupe_key=f"answered:{case_id}:{handling_round}", now=now, case_id=case_id)


def progress_reported(session: Session, *, case_id: int, number: str, phone: str | None,
                      progress_id: int, reply: dict[str, Any], now: datetime
                      ) -> SmsMessage | None:
    """Tell the enterprise a department's progress note (进度反馈)."""
    return send(session, kind="case_progress", to=phone or "",
                params={"number": number, "replies": [reply]},
                dedupe_key=f"progress:{progress_id}", now=now, case_id=case_id)
