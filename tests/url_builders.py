"""Werkzeug's URL builders compiled once per suite instead of once per app.

Werkzeug turns every URL rule into two small Python functions (``Rule._compile_builder``:
an AST built, then ``compile()``), which was three quarters of ``create_app``'s time; the
suite creates an app for most of its tests, each with the same ~130 rules. The code of a
builder depends only on the rule's trace (static and dynamic parts), its defaults, the
converters that resolve those defaults, and ``append_unknown``; the rule itself is bound when
called (``__get__``), so one compiled function serves every app's copy of the rule.

A werkzeug that compiles differently no longer has ``_compile_builder`` or its fields: then
nothing is patched and the suite is merely slower (tests/core/test_url_builders.py says so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

Builder = Callable[..., tuple[str, str]]

_compiled: dict[tuple[Any, ...], Builder] = {}


def _converter_key(converter: Any) -> tuple[str, str]:
    settings = sorted((name, repr(value)) for name, value in vars(converter).items()
                      if name != "map")
    return type(converter).__qualname__, repr(settings)


def _key(rule: Rule, append_unknown: bool) -> tuple[Any, ...]:
    defaults = sorted((name, repr(value)) for name, value in (rule.defaults or {}).items())
    converters = sorted((name, _converter_key(converter))
                        for name, converter in rule._converters.items())
    return append_unknown, tuple(rule._trace), tuple(defaults), tuple(converters)


def install() -> bool:
    """Patch ``Rule._compile_builder`` with a cache; False if werkzeug has changed."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "cached_by_the_suite", False):
        return original is not None

    def compile_builder(self: Rule, append_unknown: bool = True) -> Builder:
        key = _key(self, append_unknown)
        builder = _compiled.get(key)
        if builder is None:
            builder = _compiled[key] = original(self, append_unknown)
        return builder

    compile_builder.cached_by_the_suite = True  # type: ignore[attr-defined]
    compile_builder.original = original  # type: ignore[attr-defined]
    Rule._compile_builder = compile_builder  # type: ignore[method-assign]
    return True
