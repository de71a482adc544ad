"""Every change to the queue takes one lock first, so changes never interleave.

A waiting caller, an operator's presence and the offers between them change together (the
dispatcher reads idle operators and waiting callers and pairs them); one lock row keeps
that simple and correct on both databases: a row lock held to the commit on PostgreSQL,
and on SQLite the write lock, taken by the first statement (a transaction that starts by
writing waits for the lock instead of failing on a stale read snapshot). Changes are a few
per call and each takes milliseconds, so they queue behind each other harmlessly.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from callqueue.models import QueueLock
from core.dialect import insert_or_ignore

LOCK_ID = 1


def lock_queue(session: Session) -> None:
    """Take the queue's lock for the rest of ``session``'s transaction.

    Objects the session loaded before are expired (their pending changes flushed first):
    sessions keep objects across commits (``expire_on_commit=False``), and a decision taken
    under the lock must read what is committed now, not what was read before.
    """
    session.flush()
    bump = update(QueueLock).where(QueueLock.id == LOCK_ID).values(
        changes=QueueLock.changes + 1)
    if not session.execute(bump).rowcount:  # type: ignore[attr-defined]
        # First use (or a truncated table): create the row, then take it.
        session.execute(insert_or_ignore(session, QueueLock, {"id": LOCK_ID, "changes": 0},
                                         index_elements=["id"]))
        session.execute(bump)
    session.expire_all()
