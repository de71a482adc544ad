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

import functools
from collections.abc import Callable
from typing import Any

from werkzeug.routing import rules
from werkzeug.routing.rules import Rule

Builder = Callable[..., tuple[str, str]]

_compiled: dict[tuple[Any, ...], Builder] = {}
_parse_converter_args = rules.parse_converter_args


def _key(rule: Rule, append_unknown: bool) -> tuple[Any, ...]:
    # The rule's text carries its converters' arguments (``<int(fixed_digits=4):n>``); with
    # the converters' classes and the defaults it fixes every value a builder has baked in.
    defaults = (tuple(sorted((name, repr(value)) for name, value in rule.defaults.items()))
                if rule.defaults else ())
    converters = tuple((name, type(converter)) for name, converter in rule._converters.items())
    return append_unknown, rule.rule, tuple(rule._trace), defaults, converters


@functools.cache
def _converter_arguments(text: str) -> tuple[tuple[Any, ...], tuple[tuple[str, Any], ...]]:
    args, kwargs = _parse_converter_args(text)
    return args, tuple(kwargs.items())


def _parse_cached(text: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``parse_converter_args``, parsed once per text (a fresh dict each call)."""
    args, kwargs = _converter_arguments(text)
    return args, dict(kwargs)


def install() -> bool:
    """Patch ``Rule._compile_builder`` (and the parsing of converter arguments, which every
    rule of every app does again) with caches; False if werkzeug has changed."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "cached_by_the_suite", False):
        return original is not None
    rules.parse_converter_args = _parse_cached

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
