"""Package dependencies point one way: follow-up reacts to cases, cases never reaches back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# package -> packages it must never import (directly, at any depth of its modules).
# ``ivr`` (the Twilio edge) may call into the domain; the survey's webhooks live in followup.
FORBIDDEN = {
    "cases": {"followup", "console", "extraction"},
    "ivr": {"followup", "console"},
    "followup": {"console", "api"},
    # Reads case text and writes through the case domain; the console shows its suggestions.
    "extraction": {"console", "api", "followup", "reports", "live"},
    # The live process decodes and tells; the console listens (through Redis).
    "live": {"console", "api", "followup", "reports", "workers"},
}


def imported_packages(package: str) -> dict[str, set[str]]:
    """``{module path: top-level packages it imports}`` for every module of ``package``."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_its_dependants(package: str) -> None:
    offending = {module: sorted(names & FORBIDDEN[package])
                 for module, names in imported_packages(package).items()
                 if names & FORBIDDEN[package]}
    assert offending == {}


def test_the_scan_sees_imports() -> None:
    """The scanner finds a known import, so an empty result above means something."""
    assert "cases" in imported_packages("followup")["followup/calls.py"]
