"""``flask cases sweep|routing-report`` and ``flask api-tokens …`` and the periodic sweep job."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.models import ApiToken
from api.tokens import authenticate
from core import jobs as context
from core.db import db
from tests.cases.factories import local, routed_case


def test_sweep_command_hangs_overdue_cases(app: Any, clock: Any) -> None:
    routed_case(db.session(), local("2026-11-24 09:00"))
    db.session.commit()
    clock.set_local("2026-11-27 09:00")
    result = app.test_cli_runner().invoke(args=["cases", "sweep"])
    assert result.exit_code == 0 and "新挂账 1 件" in result.output


def test_sweep_job_runs_the_sweep(app: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
                                  ) -> None:
    from cases.jobs import sweep_overdue_job

    routed_case(db.session(), local("2026-11-24 09:00"))
    db.session.commit()
    clock.set_local("2026-11-27 09:00")
    monkeypatch.setattr(context, "_app", app)
    assert sweep_overdue_job() == 1


def test_sweep_job_is_scheduled() -> None:
    from cases.jobs import sweep_overdue_job
    from workers.periodic import PERIODIC

    assert any(job.func is sweep_overdue_job for job in PERIODIC)


def test_routing_report_command_prints_the_hit_rate(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["cases", "routing-report"])
    assert result.exit_code == 0 and "首选建议命中率" in result.output


def test_api_token_is_printed_once_and_stored_hashed(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["api-tokens", "create", "wechat"])
    assert result.exit_code == 0
    token = next(line for line in result.output.splitlines() if line.startswith("h8718_"))
    row = db.session().scalars(select(ApiToken)).one()
    assert token not in (row.token_hash, row.prefix)
    assert authenticate(db.session(), token, now=local("2026-11-24 09:00")) == row


def test_api_token_list_shows_local_times(app: Any) -> None:
    """Last used 2026-11-24 02:30 UTC is 10:30 in the hotline's zone, as the console says."""
    app.test_cli_runner().invoke(args=["api-tokens", "create", "wechat"])
    row = db.session().scalars(select(ApiToken)).one()
    row.last_used_at = local("2026-11-24 10:30")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["api-tokens", "list"])
    assert result.exit_code == 0
    assert "last used 2026-11-24 10:30" in result.output


def test_demo_seed_creates_a_token_once(app: Any) -> None:
    from api.seed import seed_api_tokens

    assert seed_api_tokens(db.session(), demo=False) == ""
    first = seed_api_tokens(db.session(), demo=True)
    second = seed_api_tokens(db.session(), demo=True)
    # Not a terminal (pytest captures): the plaintext goes to an owner-only file, not out.
    token_file = Path(app.config["INSTANCE_PATH"]) / "demo_api_token.txt"
    plaintext = token_file.read_text().strip()
    assert plaintext.startswith("h8718_") and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert str(token_file) in first and "h8718_" not in first + second
    assert authenticate(db.session(), plaintext, now=local("2026-11-24 09:00")) is not None
