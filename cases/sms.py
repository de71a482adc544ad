"""The texts a case sends to its enterprise, handed to :mod:`messaging` as plain values.

Which replies a text quotes is the case domain's rule (:func:`round_replies`); what the text
says and how it is sent are messaging's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.case_models import Case, Reply
from cases.vocab import CLOSING_REPLY_KINDS, Mode
from messaging import receipts
from messaging.models import SmsMessage


def _reply_params(reply: Reply) -> dict[str, Any]:
    unit = reply.department.name if reply.department else None
    return receipts.reply_params(unit=unit, kind=reply.kind, text=reply.text,
                                 policy_basis=reply.policy_basis)


def round_replies(case: Case) -> list[Reply]:
    """The answers (答复 / 解释说明) of the current handling round, oldest first."""
    current = {a.id for a in case.assignments if a.round == case.rework_count}
    closing = [r for r in case.replies if r.kind in CLOSING_REPLY_KINDS]
    if case.mode == Mode.INSTANT:
        return closing[-1:]
    return [r for r in closing if r.assignment_id in current]


def voicemail_filed(session: Session, case: Case, now: datetime) -> SmsMessage | None:
    """Receipt for a new voicemail case, to the caller's mobile."""
    return receipts.voicemail_filed(session, case_id=case.id, number=case.number,
                                    phone=case.contact_phone, now=now)


def case_merged(session: Session, case: Case, earlier: Case,
                now: datetime) -> SmsMessage | None:
    """Tell the merged case's contact that the request is handled under ``earlier``."""
    return receipts.case_merged(session, case_id=case.id, number=case.number,
                                phone=case.contact_phone, earlier_id=earlier.id,
                                earlier_number=earlier.number,
                                earlier_phone=earlier.contact_phone, now=now)


def case_unlinked(session: Session, case: Case, now: datetime) -> SmsMessage | None:
    """Tell the contact that the merge was undone: the case goes on under its own number."""
    return receipts.case_unlinked(session, case_id=case.id, number=case.number,
                                  phone=case.contact_phone, now=now)


def case_answered(session: Session, case: Case, now: datetime) -> SmsMessage | None:
    """Tell the enterprise its case was answered, with the answer (once per handling round)."""
    session.flush()  # the reply just added gets its defaults and its department
    return receipts.case_answered(
        session, case_id=case.id, number=case.number, phone=case.contact_phone,
        handling_round=case.rework_count, replies=[_reply_params(r) for r in round_replies(case)],
        now=now)


def progress_reported(session: Session, case: Case, progress: Reply, now: datetime
                      ) -> SmsMessage | None:
    """Tell the enterprise a department's progress note (进度反馈)."""
    return receipts.progress_reported(session, case_id=case.id, number=case.number,
                                      phone=case.contact_phone, progress_id=progress.id,
                                      reply=_reply_params(progress), now=now)
