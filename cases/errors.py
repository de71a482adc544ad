"""Domain errors: a machine code for programs and a Chinese message for people.

The web and API layers map ``code`` to an HTTP status (:data:`HTTP_STATUS`); the message is
shown to the user as is.
"""

from __future__ import annotations


class CaseError(Exception):
    """Base class of every error the case domain raises on purpose."""

    code = "case_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CaseError):
    code = "not_found"


class NotYourCase(CaseError):
    """A department acted on an assignment of another department."""

    code = "not_your_case"


class NotAllowed(CaseError):
    """The actor's role may not perform this action at all."""

    code = "not_allowed"


class ForbiddenTransition(CaseError):
    """The case (or assignment) is not in a state that allows the action."""

    code = "forbidden_transition"


class InvalidInput(CaseError):
    """One or more values are unacceptable; ``fields`` maps field names to messages.

    Each message names what it is about (people read it without the field's code name,
    e.g. next to the field in a form); ``message`` joins them.
    """

    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("；".join(dict.fromkeys(fields.values())))
        self.fields = dict(fields)


HTTP_STATUS: dict[str, int] = {
    NotFound.code: 404,
    NotYourCase.code: 403,
    NotAllowed.code: 403,
    ForbiddenTransition.code: 409,
    InvalidInput.code: 422,
}


def http_status(error: CaseError) -> int:
    """The HTTP status a web layer should answer ``error`` with."""
    return HTTP_STATUS.get(error.code, 400)
