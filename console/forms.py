"""What the user typed, given back after an error, with each field's message next to it.

A form that fails is answered with its page rendered again (``console.web.perform``), in
the same request, so ``request.form`` still holds every value. Templates ask
``posted(action_url)`` for the form they draw: when that form is the one just posted, its
values and field errors come back; otherwise (a GET, or another form on the same page) the
template's defaults. Forms are told apart by the path they post to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import g, request
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

ERRORS_KEY = "form_errors"


def note_errors(fields: Mapping[str, str]) -> None:
    """Remember the field errors of the form being answered (read by :func:`posted`)."""
    setattr(g, ERRORS_KEY, dict(fields))


def field_errors() -> dict[str, str]:
    return dict(getattr(g, ERRORS_KEY, None) or {})


class Posted:
    """One form's values as typed (``values`` None: not posted, templates' defaults apply)."""

    def __init__(self, values: MultiDict[str, str] | None, errors: Mapping[str, str]) -> None:
        self.values = values
        self.errors = dict(errors)

    @property
    def active(self) -> bool:
        return self.values is not None

    def get(self, name: str, default: Any = "") -> Any:
        if self.values is None:
            return "" if default is None else default
        return self.values.get(name, "")

    def getlist(self, name: str, default: Iterable[Any] = ()) -> list[str]:
        if self.values is None:
            return [str(v) for v in default]
        return self.values.getlist(name)

    def checked(self, name: str, value: Any = "1", default: bool = False) -> bool:
        """A checkbox or radio: ticked as posted, else ``default``."""
        if self.values is None:
            return default
        return str(value) in self.values.getlist(name)

    def selected(self, name: str, value: Any, default: Any = None) -> bool:
        """A ``<select>`` option (or radio) chosen as posted, else ``value == default``."""
        if self.values is None:
            return default is not None and str(value) == str(default)
        return str(value) in self.values.getlist(name)

    def error(self, *names: str) -> Markup:
        """The messages of ``names``, to place right after their field."""
        messages = [self.errors[n] for n in names if n in self.errors]
        if not messages:
            return Markup("")
        text = "；".join(dict.fromkeys(messages))
        return Markup('<span class="field-error" role="alert">{}</span>').format(escape(text))

    def invalid(self, *names: str) -> Markup:
        """``aria-invalid`` for a field with an error (styled like one, read as one)."""
        flagged = any(n in self.errors for n in names)
        return Markup(' aria-invalid="true"') if flagged else Markup("")


def posted(action: str) -> Posted:
    """The form posting to ``action``: as the user typed it if it was just posted."""
    if request.method == "POST" and request.path == urlsplit(action).path:
        return Posted(request.form, field_errors())
    return Posted(None, {})
