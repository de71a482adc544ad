"""Everything that happens to a case after intake, one pair of functions per step of the notice,
split the way Zulip's ``zerver/actions/`` is:

- ``check_<step>(…)`` — the decision: loads the rows (the case row-locked), checks the actor's
  right, the state machine (:mod:`cases.states`) and the values, raises the domain's errors
  (:mod:`cases.errors`) and changes nothing; it returns what the action needs.
- ``do_<step>(…)`` — the action: calls ``check_<step>`` first, then changes the state, writes
  one audit event per step (``CaseEvent``), tells the departments, queues the texts and
  publishes the case events (:mod:`cases.events`). Committing is left to the caller.

Each takes plain values, an :class:`~cases.actors.Actor` and ``now``. Deadlines come from
:class:`~cases.deadlines.Deadlines`; pass ``calendar`` (and ``tz``) to use a specific calendar,
otherwise one is built with the database overrides.

Answer rule: a case is answered when no department of the current round is still handling it
and at least one has replied — for 流转办 that is the lead's reply, for 专班商办 and decided
escalations the reply of every (co-)handling department.

Modules: :mod:`~cases.actions.triage` (即时办, the phone's self-service answer, 流转办, re-routing),
:mod:`~cases.actions.joint` (专班商办 and its meeting), :mod:`~cases.actions.escalation`
(研判上报 and the leading group's decision), :mod:`~cases.actions.assignments` (a department's
签收, 退单, 答复 / 解释说明, 进度反馈), :mod:`~cases.actions.extensions` (延期申请 and its
decision), :mod:`~cases.actions.rating` (回访 result, 重办, 回访未果),
:mod:`~cases.actions.details` (审核 / 更正); :mod:`~cases.actions.common` holds what they share.
"""
