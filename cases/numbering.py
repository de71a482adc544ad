"""Case numbers: digits only (callers key them in), ``YYMMDD`` + a 4-digit daily sequence.

The sequence comes from one counter row per local day, incremented with a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement. Both PostgreSQL and SQLite (3.35+)
run it atomically and no two filers ever read the same value. On PostgreSQL the number is
taken in a short transaction of its own, so the row lock is not held while the filing goes
on; a rolled-back filing then leaves a gap, never a duplicate.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cases.case_models import CaseNumberCounter

SEQUENCE_DIGITS = 4
# YYMMDD + at least 4 digits; a day with more than 9,999 cases gets a 5-digit sequence.
NUMBER_PATTERN = re.compile(r"^\d{6}\d{4,5}$")


def next_sequence(session: Session, day: date) -> int:
    """Reserve the next sequence number of ``day`` in the current transaction."""
    table = CaseNumberCounter.__table__
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"case numbering does not support the {dialect} database")
    stmt = insert(table).values(day=day, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.day], set_={"last": table.c.last + 1}
    ).returning(table.c.last)
    if dialect == "postgresql":
        # Take the number in a transaction of its own: holding the day's counter row locked
        # until the filing commits would make concurrent filings (and the voicemail webhook
        # that reads the number back) queue behind each other.
        with session.get_bind().connect() as conn:
            value = int(conn.execute(stmt).scalar_one())
            conn.commit()
        return value
    # SQLite has one writer at a time anyway; a second connection would wait on our own lock.
    return int(session.execute(stmt).scalar_one())


def format_number(day: date, sequence: int) -> str:
    return f"{day:%y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def allocate_number(session: Session, day: date) -> str:
    """A new, unique case number for a case registered on local date ``day``."""
    return format_number(day, next_sequence(session, day))


def looks_like_number(text: str) -> bool:
    """Whether ``text`` has the shape of a case number (not whether it exists)."""
    return bool(NUMBER_PATTERN.match(text))
