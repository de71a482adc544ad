"""Which lifecycle forms a user may see on a case: the state machine plus the user's role."""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.case_models import Assignment, Case
from cases.states import TRANSITIONS
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, AssignmentState, Extension, Mode, Status
from console.auth import CENTRE, SUPERVISORS
from console.models import User


@dataclass
class CaseActions:
    """Form names for the case, and per assignment id the department's own forms."""

    case: set[str] = field(default_factory=set)
    assignments: dict[int, set[str]] = field(default_factory=dict)
    # Assignments with an extension request the centre may decide.
    extension_requests: list[Assignment] = field(default_factory=list)


def _allowed(case: Case, transition: str) -> bool:
    return case.status in TRANSITIONS[transition].sources


def available(case: Case, user: User, *, overdue: set[int] | None = None) -> CaseActions:
    """The forms to show; each domain call re-checks everything, this only hides buttons."""
    actions = CaseActions()
    if user.role in CENTRE:
        rules = {
            "review": _allowed(case, "update_details"),
            "answer": _allowed(case, "answer_instantly"),
            "route": _allowed(case, "route"),
            "reroute": case.status == Status.HANDLING and _allowed(case, "reroute"),
            "joint": user.role in SUPERVISORS and _allowed(case, "start_joint"),
            "meeting": user.role in SUPERVISORS and _allowed(case, "record_meeting")
            and case.mode == Mode.JOINT
            and bool(case.meetings) and case.meetings[-1].held_at is None,
            "escalate": user.role in SUPERVISORS and _allowed(case, "escalate"),
            "decision": user.role in SUPERVISORS and _allowed(case, "record_decision"),
            "rate": _allowed(case, "rate"),
        }
        actions.case = {name for name, ok in rules.items() if ok}
        if _allowed(case, "decide_extension"):
            actions.extension_requests = [
                a for a in case.assignments
                if a.state in ACTIVE_ASSIGNMENT_STATES and a.extension_status == Extension.REQUESTED
            ]
    if user.role == "department" and case.status == Status.HANDLING:
        late = overdue or set()
        for assignment in case.assignments:
            if assignment.department_id != user.department_id \
                    or assignment.state not in ACTIVE_ASSIGNMENT_STATES:
                continue
            forms = {"reply", "return"}
            if assignment.state == AssignmentState.PENDING:
                forms.add("accept")
            if assignment.extension_status != Extension.REQUESTED and assignment.id not in late:
                forms.add("extension")
            actions.assignments[assignment.id] = forms
    return actions
