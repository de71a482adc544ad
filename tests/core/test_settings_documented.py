"""Every environment setting the code reads has a row in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where the product's code lives (tests and benchmarks set their own variables).
CODE_DIRS = ("api", "call_flows", "cases", "console", "core", "ivr", "transcription", "workers")
CODE_FILES = ("app.py",)
# Reading a variable: env.get("X"), os.environ["X"], os.getenv('X'), …
READ = re.compile(r"""(?:environ|env|getenv)\s*(?:\.get\(|\[|\()\s*['"]([A-Z][A-Z0-9_]+)['"]""")
# A variable name kept in a constant: SOMETHING_ENV = "X".
NAMED = re.compile(r"""^[A-Z_]*ENV\s*=\s*['"]([A-Z][A-Z0-9_]+)['"]""", re.MULTILINE)
# Read by the code but not a setting for operators of the hotline.
NOT_SETTINGS: dict[str, str] = {}


def settings_read_by_the_code() -> dict[str, str]:
    """Setting name → the first file reading it."""
    files = [ROOT / name for name in CODE_FILES]
    for folder in CODE_DIRS:
        files.extend(sorted((ROOT / folder).rglob("*.py")))
    found: dict[str, str] = {}
    for path in files:
        text = path.read_text()
        for name in [*READ.findall(text), *NAMED.findall(text)]:
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def readme_table_names() -> set[str]:
    """Names in the first cell of the rows under "## Configuration"."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("|"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_scanner_finds_settings() -> None:
    found = settings_read_by_the_code()
    assert {"DATABASE_URL", "SMS_SENDER", "HOST", "TRUSTED_PROXIES"} <= set(found)


def test_every_setting_has_a_readme_row() -> None:
    documented = readme_table_names()
    missing = {name: where for name, where in settings_read_by_the_code().items()
               if name not in documented and name not in NOT_SETTINGS}
    assert not missing, "README.md, section Configuration, has no row for: " + "; ".join(
        f"`{name}` (read in {where})" for name, where in sorted(missing.items())
    ) + ". Add a row `| `NAME` | default | meaning |` to the table."
