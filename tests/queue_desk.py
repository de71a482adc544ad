"""Operators on duty for tests that reach the office-hours queue (``desk`` fixture).

Accounts, devices, skills and presence are set through the queue's service, as the console
and the CLI do. With a switchboard, each operator's device answers as its
:class:`~ivr.switchboard.OperatorPolicy` says.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from callqueue import service
from callqueue.models import Agent, EntryKind, QueueEntry
from callqueue.placement import InlinePlacer
from callqueue.presence import State
from console.models import User
from console.operators import agent_for
from core.db import db
from ivr.switchboard import OperatorPolicy, Switchboard


class Desk:
    def __init__(self, app: Any, board: Switchboard | None) -> None:
        self.app = app
        self.board = board
        self.runtime = app.extensions["queue_runtime"]
        self._devices = 0
        if board is not None:
            # REST requests ring the board's simulated devices, placed in the request (an
            # app with Redis would hand them to a job no worker runs here).
            app.config["TWILIO_HTTP_CLIENT"] = board.http_client
            self.runtime.placer = InlinePlacer(self.runtime, db.session)

    def operator(self, username: str, *, device: str | None = None,
                 skills: str = "factor,policy,special,other", state: State = State.IDLE,
                 policy: OperatorPolicy | None = None) -> Agent:
        session = db.session()
        now = self.runtime.now()
        user = User(username=username, display_name=f"{username}-姓名", role="operator",
                    password_hash="x", active=True)
        session.add(user)
        session.flush()
        agent = agent_for(session, user, now)
        session.commit()
        self._devices += 1
        device = device or f"+8613900{self._devices:06d}"

        def commit(changes: Any) -> None:
            self.runtime.commit(session, changes)

        commit(service.set_device(session, self.runtime, agent.id, device))
        commit(service.set_skills(session, self.runtime, agent.id, skills, now=now))
        if state != State.OFFLINE:
            commit(service.set_presence(session, self.runtime, agent.id, State.IDLE, now=now,
                                        from_console=False))
        if state == State.BREAK:
            commit(service.set_presence(session, self.runtime, agent.id, State.BREAK, now=now,
                                        from_console=False))
        if policy is not None and self.board is not None:
            self.board.operators[device] = policy
        return self.agent(agent.id)

    def agent(self, agent_id: int) -> Agent:
        db.session.rollback()
        db.session.expire_all()  # committed by webhooks and jobs since (objects are kept)
        found = db.session.get(Agent, agent_id)
        assert found is not None
        return found

    def ticking(self, every: float = 5.0, *, while_open: bool = False) -> None:
        """Run the periodic tick every ``every`` seconds on the switchboard's clock (as the
        ``queue-tick`` job does), while any other simulated party is still at work (and,
        ``while_open``, while the queue still has callers or callbacks to serve)."""
        board = self.board
        assert board is not None

        def busy(me: Any) -> bool:
            if any(not p.done for p in list(board._parties.values()) if p is not me):
                return True
            if not while_open:
                return False
            try:
                return db.session.scalar(select(QueueEntry.id).where(QueueEntry.status.in_(
                    ("waiting", "offered", "connected"))).limit(1)) is not None
            finally:
                db.session.remove()

        def work() -> None:
            me = board._current()
            while busy(me):
                board.sleep(every)
                try:
                    self.tick()
                finally:
                    db.session.remove()

        board.spawn("queue-tick", work)

    def tick(self, seconds: float = 0) -> None:
        """Let ``seconds`` pass, then run the periodic tick once."""
        if seconds:
            self.runtime.clock.now += timedelta(seconds=seconds)
        session = db.session()
        self.runtime.commit(session, service.tick(session, self.runtime,
                                                  now=self.runtime.now()))


def entry_of(call_sid: str, kind: EntryKind = EntryKind.CALL) -> QueueEntry | None:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalars(select(QueueEntry).where(
        QueueEntry.call_sid == call_sid, QueueEntry.kind == kind.value)).one_or_none()


def run_calls(board: Switchboard, phone: Any, plans: list[tuple[float, dict[str, Any]]]
              ) -> list[Any]:
    """Several callers at once: each starts ``delay`` seconds in, with ``phone.call``'s
    arguments; returns their outcomes once everything that follows has happened."""
    outcomes: list[Any] = [None] * len(plans)
    for index, (delay, kwargs) in enumerate(plans):
        def work(index: int = index, kwargs: dict[str, Any] = kwargs) -> None:
            outcomes[index] = phone.call(**kwargs)

        board.spawn(f"caller-{index}", work, delay=delay)
    board.run()
    return outcomes
