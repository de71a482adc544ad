"""Report products for the CLI, the console and the job: JSON figures, files."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from cases.models import Department
from reports import bulletin as bulletins
from reports import overview, revisions
from reports.filters import LedgerFilters
from reports.indicators import Dimension, Figures, Level, Scope, figures, totals
from reports.ledger_export import write_ledger
from reports.models import Bulletin, BulletinStatus
from reports.queue_figures import queue_figures
from workdays.calendar import WorkCalendar


def kpis_json(session: Session, scope: Scope, calendar: WorkCalendar,
              now: datetime | None = None) -> dict[str, Any]:
    """The shape of ``flask reports kpis --json``: totals plus ``units`` (one per unit), and
    for the centre the office-hours queue's figures (``queue``; ``now`` decides which
    callback deadlines have passed: the start of ``scope.today`` when not given)."""
    head = totals(session, scope, calendar)
    rows = overview.unit_rows(session, scope, calendar)
    if scope.department_id is not None:
        rows = [r for r in rows if r.department_id == scope.department_id]
    return {
        "period": {"from": scope.period.start.isoformat(), "to": scope.period.end.isoformat(),
                   "label": scope.period.label, "today": scope.today.isoformat()},
        **head.as_json(),
        "units": [{"unit": r.name, **r.figures.as_json()} for r in rows],
        **({} if scope.department_id is not None else breakdowns(session, scope, calendar)),
        **({} if scope.department_id is not None else {"queue": queue_figures(
            session, scope, now or datetime.combine(scope.today, time(), scope.tz)).as_json()}),
    }


def breakdowns(session: Session, scope: Scope, calendar: WorkCalendar) -> dict[str, Any]:
    """The centre's figures per service area, sub-area and channel (keyed by code)."""
    out: dict[str, Any] = {}
    for key, dimension in (("areas", Dimension.AREA), ("subareas", Dimension.SUBAREA),
                           ("channels", Dimension.CHANNEL)):
        found = figures(session, scope, calendar, Level.CASES, dimension)
        out[key] = [{"key": k, **v.as_json()} for k, v in found.items()]
    return out


def indicator_rows(session: Session, scope: Scope, calendar: WorkCalendar
                   ) -> list[tuple[str, Figures]]:
    """The indicators sheet: the total (全部 or the unit) and one row per unit."""
    head = totals(session, scope, calendar)
    rows = overview.unit_rows(session, scope, calendar)
    if scope.department_id is not None:
        rows = [r for r in rows if r.department_id == scope.department_id]
        return [(r.name, r.figures) for r in rows] or [("本单位", head)]
    return [("全部", head), *((r.name, r.figures) for r in rows)]


def _indicators_apart(bind: Any, scope: Scope, calendar: WorkCalendar
                      ) -> list[tuple[str, Figures]]:
    """The indicators sheet, on a connection of its own (closed before returning)."""
    with Session(bind=bind) as own:
        return indicator_rows(own, scope, calendar)


def export_ledger(session: Session, scope: Scope, calendar: WorkCalendar,
                  filters: LedgerFilters, out: str | Path | IO[bytes]) -> int:
    from reports.ledger_export import ledger_batches, ledger_heading, prefetched

    # The rows are read in a helper thread: hand it this thread's session itself, not the
    # thread-local proxy, which would open a session of its own there and never close it.
    reader = session() if isinstance(session, scoped_session) else session
    unit = None if filters.department_id is None else reader.scalar(
        select(Department.name).where(Department.id == filters.department_id))
    # The indicators sheet comes last: its aggregate queries run in the database while the
    # rows are written, instead of before.
    with ThreadPoolExecutor(1, thread_name_prefix="ledger-indicators") as pool:
        indicators = pool.submit(_indicators_apart, reader.get_bind(), scope, calendar)
        return write_ledger(out, prefetched(ledger_batches(reader, scope, filters)),
                            indicators.result, ledger_heading(scope, unit), scope.period.label)


def bulletin_document(session: Session, scope: Scope, calendar: WorkCalendar) -> bytes:
    """The month's bulletin: the issued file if issued, else generated now (draft text)."""
    found = bulletins.bulletin_for(session, scope.period)
    if found is not None and found.status == BulletinStatus.ISSUED and found.document:
        return found.document
    number = found.issue_number if found else (
        (session.scalar(select(func.max(Bulletin.issue_number))) or 0) + 1)
    content = bulletins.gather(session, scope, calendar, issue_number=number,
                               editorial=found.editorial if found else "",
                               issued_on=scope.today)
    return bulletins.render(content)


def issue_bulletin(session: Session, bulletin: Bulletin, scope: Scope, calendar: WorkCalendar,
                   *, by: str, now: datetime) -> None:
    """Issue the month's bulletin: the file as generated now, and the figures it states
    (kept, so that a later correction of the month shows as a revision)."""
    if bulletin.status == BulletinStatus.ISSUED:
        raise bulletins.BulletinError("简报已印发")
    content = bulletins.gather(session, scope, calendar, issue_number=bulletin.issue_number,
                               editorial=bulletin.editorial, issued_on=scope.today)
    bulletins.issue(session, bulletin, bulletins.render(content), by=by, now=now,
                    figures=revisions.published(content.overview.totals))


def bulletin_pdf(session: Session, scope: Scope, calendar: WorkCalendar) -> bytes:
    """The same bulletin as PDF, converted from that very .docx (the issued file once
    issued), so both say the same; raises :class:`reports.pdf.PdfError`."""
    from reports.pdf import to_pdf

    return to_pdf(bulletin_document(session, scope, calendar), ".docx")
