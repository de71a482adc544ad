"""One way to get the clock: ``core.clock.clock_of(config)``.

The ``CLOCK`` setting (a test's frozen clock, the terminal phone's ``--at``) is read in
``core/clock.py`` only; a module that read it itself could forget the fallback to the system
clock, or pick another one, and the time would depend on who asks.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from core.clock import clock_of, fixed_clock, system_clock

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {"tests", "migrations", "benchmarks"}
THE_ACCESSOR = "core/clock.py"


def _product_files() -> list[Path]:
    packages = [path.parent for path in ROOT.glob("*/__init__.py")
                if path.parent.name not in NOT_PRODUCT]
    files = list(ROOT.glob("*.py"))
    for package in packages:
        files.extend(package.rglob("*.py"))
    return sorted(files)


def _clock_reads(source: str) -> list[int]:
    """Lines of ``source`` reading the ``CLOCK`` setting: ``x.get("CLOCK")``, ``x["CLOCK"]``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        got = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "get" and bool(node.args)
               and isinstance(node.args[0], ast.Constant) and node.args[0].value == "CLOCK")
        indexed = (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                   and isinstance(node.slice, ast.Constant) and node.slice.value == "CLOCK")
        if got or indexed:
            lines.append(getattr(node, "lineno", 0))
    return sorted(lines)


def _reads_outside_the_accessor() -> dict[str, list[int]]:
    found = {}
    for path in _product_files():
        name = str(path.relative_to(ROOT))
        lines = _clock_reads(path.read_text(encoding="utf-8"))
        if lines and name != THE_ACCESSOR:
            found[name] = lines
    return found


def test_the_clock_setting_is_read_in_core_clock_only() -> None:
    assert _reads_outside_the_accessor() == {}, (
        "read the clock with core.clock.clock_of(config), not config.get('CLOCK')")


def test_the_scan_sees_a_clock_read() -> None:
    """The scanner finds the accessor's own read, so an empty result above means something."""
    assert _clock_reads((ROOT / THE_ACCESSOR).read_text(encoding="utf-8"))
    assert _clock_reads('now = (app.config.get("CLOCK") or system_clock)()\n'
                        'later = config["CLOCK"]()\n') == [1, 2]
    assert _clock_reads('config["CLOCK"] = fixed_clock(at)\n') == []
    names = {str(path.relative_to(ROOT)) for path in _product_files()}
    assert {"app.py", "core/clock.py", "reports/context.py", "live/server.py"} <= names
    assert not any(name.startswith(("tests/", "migrations/")) for name in names)


def test_clock_of_uses_the_configured_clock() -> None:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert clock_of({"CLOCK": fixed_clock(at)})() == at


def test_clock_of_falls_back_to_the_system_clock() -> None:
    assert clock_of({}) is system_clock
    assert clock_of({"CLOCK": None}) is system_clock
