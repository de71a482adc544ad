"""The same value gets the same answer at intake, in the operator's edit and in the importer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cases.actions.details import do_update_details
from cases.actors import Actor
from cases.errors import InvalidInput
from cases.fields import MAX_CONTACT_NAME, MAX_DESCRIPTION
from cases.queries import case_by_number
from cases.vocab import CHANNEL_LABELS
from importing.cases import COLUMNS, import_cases
from tests.cases.factories import CALENDAR, OPERATOR, local, new_case

NOW = local("2026-11-24 09:00")
ADMIN = Actor("admin", "批量导入：test")
GOOD = {"description": "企业咨询用电增容", "contact_name": "李总", "contact_phone": "13800138000"}

# (field, raw value, the stored value or None when refused, the refusal message)
VALUES: list[tuple[str, str, str | None, str | None]] = [
    ("contact_name", "王" * (MAX_CONTACT_NAME + 1), None, f"联系人不能超过{MAX_CONTACT_NAME}字"),
    ("contact_name", "  " + "王" * MAX_CONTACT_NAME + " ", "王" * MAX_CONTACT_NAME, None),
    ("contact_phone", "0574-88888718", "+8657488888718", None),
    ("contact_phone", "12345", None, "电话号码无效：12345（固定电话请加区号，如 0574-88888718）"),
    ("description", "字" * (MAX_DESCRIPTION + 1), None, f"诉求内容不能超过{MAX_DESCRIPTION}字"),
    ("description", "  用电增容  ", "用电增容", None),
]
IDS = [f"{f}-{'ok' if stored else 'refused'}-{len(raw)}" for f, raw, stored, _ in VALUES]


def _by_intake(session: Session, field: str, raw: str) -> str:
    case = new_case(session, NOW, **{**GOOD, field: raw})
    return str(getattr(case, field))


def _by_edit(session: Session, field: str, raw: str) -> str:
    case = new_case(session, NOW, **GOOD)
    do_update_details(session, case.id, actor=OPERATOR, now=NOW, **{field: raw})
    return str(getattr(case, field))


def _by_import(session: Session, field: str, raw: str, tmp_path: Path) -> str:
    path = tmp_path / "rows.csv"
    row = {"channel": CHANNEL_LABELS["window"], **GOOD, field: raw}
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow([COLUMNS[name][0] for name in row])
        writer.writerow(list(row.values()))
    report = import_cases(session, path, actor=ADMIN, now=NOW, calendar=CALENDAR)
    if report.errors:
        by_heading = {aliases[0]: name for name, aliases in COLUMNS.items()}
        raise InvalidInput({by_heading[e.field]: e.message for e in report.errors})
    case = case_by_number(session, report.filed[0])
    assert case is not None
    return str(getattr(case, field))


@pytest.mark.parametrize(("field", "raw", "stored", "message"), VALUES, ids=IDS)
@pytest.mark.parametrize("path", ["intake", "edit", "import"])
def test_every_path_gives_the_same_answer(session: Session, tmp_path: Path, path: str,
                                          field: str, raw: str, stored: str | None,
                                          message: str | None) -> None:
    def enter() -> str:
        if path == "intake":
            return _by_intake(session, field, raw)
        if path == "edit":
            return _by_edit(session, field, raw)
        return _by_import(session, field, raw, tmp_path)

    if stored is None:
        with pytest.raises(InvalidInput) as refused:
            enter()
        assert refused.value.fields == {field: message}
    else:
        assert enter() == stored
