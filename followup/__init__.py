"""Follow-up (回访) of answered cases: survey calls, outcomes and operator tasks.

Depends on ``cases``, never the other way round: :mod:`followup.listeners` subscribes to
``cases.events`` at start-up.
"""
