"""No module over ~400 lines without the reason written at its top (docs/development.md).

A long module is often several concerns that grew together; when it is one concern on
purpose, its docstring says why in a paragraph starting ``Long on purpose:``, so the next
person splits it or knows not to. Migrations are history (a migration that ran is never
rewritten) and tests follow the modules they test, so neither is counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
MARKER = "Long on purpose:"
NOT_COUNTED = {"tests", "migrations", ".venv", "node_modules", ".git"}


def _modules() -> list[Path]:
    found = list(ROOT.glob("*.py"))
    for folder in ROOT.iterdir():
        if folder.is_dir() and not folder.is_symlink() and folder.name not in NOT_COUNTED:
            found.extend(folder.rglob("*.py"))
    return sorted(found)


def _long_without_reason(path: Path) -> bool:
    source = path.read_text(encoding="utf-8")
    if source.count("\n") <= LIMIT:
        return False
    docstring = ast.get_docstring(ast.parse(source)) or ""
    return MARKER not in docstring


def test_every_long_module_says_why_at_its_top() -> None:
    offenders = [str(path.relative_to(ROOT)) for path in _modules()
                 if _long_without_reason(path)]
    assert not offenders, (f"over {LIMIT} lines without a '{MARKER}' paragraph in the module "
                           f"docstring: split them or write the reason: {offenders}")


def test_the_check_sees_a_long_module_without_a_reason(tmp_path: Path) -> None:
    long_module = tmp_path / "long.py"
    long_module.write_text('"""Several things."""\n' + "x = 1\n" * (LIMIT + 1), encoding="utf-8")
    explained = tmp_path / "explained.py"
    explained.write_text(f'"""One thing.\n\n{MARKER} one protocol."""\n' + "x = 1\n" * (LIMIT + 1),
                         encoding="utf-8")
    assert _long_without_reason(long_module)
    assert not _long_without_reason(explained)


def test_the_check_reads_the_product_and_the_benchmarks() -> None:
    names = {str(path.relative_to(ROOT)) for path in _modules()}
    assert {"app.py", "cases/intake.py", "benchmarks/webhooks.py"} <= names
    assert not any(name.startswith(("tests/", "migrations/")) for name in names)
