"""Node roles: the nodes of a flow that code relies on, named in the flow file.

A node says ``role: main_menu``; code asks the loaded flow for the node of a role
(:meth:`call_flows.flow.Flow.node_for`) instead of writing its id, and a hook that sends the
call somewhere returns the role (``HookResult(next=Role.MAIN_MENU)``). Renaming a node keeps
its role; removing the role (or giving it to two nodes) fails validation at load, so a
feature that relies on it cannot be lost quietly. ``docs/ivr.md`` has the table.
"""

from __future__ import annotations

from enum import Enum


class Role(Enum):
    """A role a node can have (the value is what the flow file says after ``role:``).

    Not a ``str`` enum on purpose: a role must never pass for a node id.
    """

    MAIN_MENU = "main_menu"
    PHONE_FAQ = "phone_faq"
    SERVICE_DESK = "service_desk"
    OPERATOR = "operator"
    VOICEMAIL = "voicemail"
    STATUS_LOOKUP = "status_lookup"
    RATING_MENU = "rating_menu"
    SURVEY_END = "survey_end"


# The flows code starts by name (the file's stem, ``call_flows/flows/<name>.yaml``), declared
# once: the inbound hotline and the satisfaction survey. A missing one stops the app at start.
HOTLINE_FLOW = "hotline"
SURVEY_FLOW = "survey"

# What code relies on each role for, by flow (the file's stem): every role listed must be on
# exactly one node of that flow. The texts are shown in validation errors and in docs/ivr.md.
REQUIRED_ROLES: dict[str, dict[Role, str]] = {
    HOTLINE_FLOW: {
        Role.MAIN_MENU: "key 9's look-up hooks return here (ivr/case_hooks.py); the phone FAQ "
                        "changes the option of this menu that leads to the phone_faq node "
                        "(knowledge/phone.py)",
        Role.PHONE_FAQ: "the 政策咨询 menu the phone FAQ list is put in front of; the list's "
                        "0 leads here (knowledge/phone.py)",
        Role.SERVICE_DESK: "where the phone FAQ's 需要人工服务 and silence go (knowledge/phone.py)",
        Role.OPERATOR: "the operator queue: the 转人工 figure, and where the menus end for the "
                       "菜单中挂断 figure (reports/calls.py)",
        Role.VOICEMAIL: "the voicemail: where 预约回电 goes when it cannot be booked "
                        "(callqueue/ivr_hooks.py), and where the menus end for the 菜单中挂断 "
                        "figure (reports/calls.py)",
        Role.STATUS_LOOKUP: "key 9's case-number input: the 进度查询 figure (reports/calls.py)",
    },
    SURVEY_FLOW: {
        Role.RATING_MENU: "the rating menu a rejected rating returns to "
                          "(followup/survey_hooks.py)",
        Role.SURVEY_END: "the goodbye of a survey that cannot go on (followup/survey_hooks.py)",
    },
}


def parse_role(raw: object) -> Role:
    """The role a flow file names; ``ValueError`` naming the known roles otherwise."""
    try:
        return Role(raw)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role {raw!r} (known: {known})") from None
