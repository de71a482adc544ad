"""``flask cases import`` as an administrator runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cases.case_models import Case
from core.db import db


def test_import_dry_run_reports_errors_and_fails(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("受理渠道,诉求内容\nforum,咨询融资\nforum,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "第3行 诉求内容：请填写诉求内容" in result.output
    assert db.session().scalar(select(func.count()).select_from(Case)) == 0


def test_import_files_the_rows(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("诉求内容\n咨询融资\n咨询用地\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path),
                                                "--channel", "forum"])
    assert result.exit_code == 0 and "已导入 2 件" in result.output
