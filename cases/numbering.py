"""Case numbers: digits only (callers key them in), ``YYMMDD`` + a 4-digit daily sequence.

The sequence comes from one counter row per local day, incremented with a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement. Both PostgreSQL and SQLite (3.35+)
run it atomically and no two filers ever read the same value. On PostgreSQL the number is
taken in a short transaction of its own, so the row lock is not held while the filing goes
on; a rolled-back filing then leaves a gap, never a duplicate. (The voicemail reservation
bumps the counter inside its own single statement on PostgreSQL: ``cases.voicemail``.)
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.case_models import CaseNumberCounter
from core.db import table_of
from core.dialect import supported_dialect

SEQUENCE_DIGITS = 4
# YYMMDD + at least 4 digits; a day with more than 9,999 cases gets a 5-digit sequence.
NUMBER_PATTERN = re.compile(r"^\d{6}\d{4,5}$")


def next_sequence(session: Session, day: date) -> int:
    """Reserve the next sequence number of ``day``."""
    if supported_dialect(session) == "postgresql":
        # Take the number in a transaction of its own: holding the day's counter row locked
        # until the filing commits would make concurrent filings (and the voicemail webhook
        # that reads the number back) queue behind each other.
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with engine.connect() as conn:
            value = int(conn.execute(_BUMP, {"day": day}).scalar_one())
            conn.commit()
        return value
    # SQLite has one writer at a time anyway; a second connection would wait on our own lock.
    return int(session.execute(_BUMP, {"day": day}).scalar_one())


def _bump_statement() -> TextClause:
    """The counter's upsert as text: compiled once, then cached (SQLAlchemy does not cache
    the dialect-specific ``insert()`` constructs). PostgreSQL and SQLite 3.35+ share it."""
    table = table_of(CaseNumberCounter)
    return text(
        f"INSERT INTO {table.name} (day, last) VALUES (:day, 1) "
        f"ON CONFLICT (day) DO UPDATE SET last = {table.name}.last + 1 RETURNING last"
    ).bindparams(bindparam("day", type_=table.c.day.type))


_BUMP = _bump_statement()


def format_number(day: date, sequence: int) -> str:
    return f"{number_prefix(day)}{sequence:0{SEQUENCE_DIGITS}d}"


def number_prefix(day: date) -> str:
    return f"{day:%y%m%d}"


def number_sql(prefix: str, sequence: str) -> str:
    """:func:`format_number` in PostgreSQL, for SQL expressions ``prefix`` and ``sequence``."""
    return (f"{prefix} || lpad({sequence}::text, "
            f"greatest({SEQUENCE_DIGITS}, length({sequence}::text)), '0')")


def allocate_number(session: Session, day: date) -> str:
    """A new, unique case number for a case registered on local date ``day``."""
    return format_number(day, next_sequence(session, day))


def looks_like_number(text: str) -> bool:
    """Whether ``text`` has the shape of a case number (not whether it exists)."""
    return bool(NUMBER_PATTERN.match(text))
