"""Every setting is declared once (``core.settings``): the code reads no other, the app's
config holds each one, and the README's configuration table is the declarations' table."""

from __future__ import annotations

import re
from pathlib import Path

from core import settings
from core.config import from_env

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {"tests", "migrations", "benchmarks"}
# Reading a variable: env.get("X"), os.environ["X"], os.getenv('X'), …
READ = re.compile(r"""(?:environ|env|getenv)\s*(?:\.get\(|\[|\()\s*['"]([A-Z][A-Z0-9_]+)['"]""")
# A variable name kept in a constant: SOMETHING_ENV = "X".
NAMED = re.compile(r"""^[A-Z_]*ENV\s*=\s*['"]([A-Z][A-Z0-9_]+)['"]""", re.MULTILINE)


def product_files() -> list[Path]:
    """``app.py`` and every package of the product (a new package is read without listing)."""
    files = [ROOT / "app.py"]
    for init in sorted(ROOT.glob("*/__init__.py")):
        if init.parent.name not in NOT_PRODUCT:
            files.extend(sorted(init.parent.rglob("*.py")))
    return files


def settings_read_by_the_code() -> dict[str, str]:
    """Variable name → the first file reading it."""
    found: dict[str, str] = {}
    for path in product_files():
        text = path.read_text(encoding="utf-8")
        for name in [*READ.findall(text), *NAMED.findall(text)]:
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def readme_table() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"


def test_the_scanner_finds_the_variables_read() -> None:
    found = settings_read_by_the_code()
    assert {"HOTLINE_INSTANCE_PATH", "DATABASE_URL", "REDIS_URL"} <= set(found)
    assert "workers/stack.py" in found.values()


def test_every_variable_the_code_reads_is_declared() -> None:
    undeclared = {name: where for name, where in settings_read_by_the_code().items()
                  if name not in settings.SETTINGS}
    assert not undeclared, "declare in core/settings.py (ROWS): " + "; ".join(
        f"`{name}` (read in {where})" for name, where in sorted(undeclared.items()))


def test_the_config_holds_every_declared_setting(tmp_path: Path) -> None:
    config = from_env({}, tmp_path)
    missing = [s.config_key for s in settings.SETTINGS.values() if s.config_key not in config]
    assert missing == []


def test_the_readme_table_is_the_declared_one() -> None:
    assert readme_table() == settings.readme_table(), (
        "README.md's configuration table differs from core/settings.py: run "
        "`python -m core.settings` and paste its table into the README")


def test_a_default_reads_as_declared(tmp_path: Path) -> None:
    config = from_env({"TRANSCRIPTION_STUCK_MINUTES": " ", "FOLLOWUP_RETRY_DELAYS": "60, 120"},
                      tmp_path)
    assert config["TRANSCRIPTION_STUCK_MINUTES"] == 5  # blank: the declared default
    assert config["FOLLOWUP_RETRY_DELAYS"] == [60, 120]
    assert "| `TRANSCRIPTION_STUCK_MINUTES`" not in settings.readme_table()  # grouped in a row
    assert "`30,120,600`, `5`, `8`, on, off" in settings.readme_table()


def test_the_reports_default_is_the_domains_rating_rule() -> None:
    from cases.vocab import SATISFIED_MIN_SCORE

    assert settings.SETTINGS["REPORTS_SATISFIED_MIN_SCORE"].default == SATISFIED_MIN_SCORE


def test_the_console_and_the_reconciliation_agree_on_stuck_recordings(app: object) -> None:
    """One declared default, read by both (they once said 15 and 5)."""
    from console.web import stuck_after
    from core.settings import setting

    with app.app_context():  # type: ignore[attr-defined]
        assert stuck_after().total_seconds() == 60 * setting({}, "TRANSCRIPTION_STUCK_MINUTES")
