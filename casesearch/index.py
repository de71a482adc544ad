"""The words of each case in the search index, and keeping them current.

A case's document is the set of words of its request text (诉求内容), contact name, enterprise
name and credit code, voicemail transcripts (as transcribed and as last corrected) and replies
(and their policy basis), each segmented on its own with the knowledge base's segmentation.

Database triggers (migration 0027) add a row to ``case_search_pending`` whenever one of those
changes — a case filed on any channel or edited, a transcript attached or corrected, a reply
written, an enterprise renamed, a voicemail linked to another case — so no write path can
forget the index. :func:`refresh` takes pending rows in order and rewrites those cases'
documents; the periodic job runs it, and a search reads the cases still pending itself
(:mod:`casesearch.query`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    Boolean,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from cases.case_models import QUEUE_WHERE, Case, CaseRecording, Reply
from cases.intake import VOICEMAIL_PLACEHOLDER
from cases.models import Enterprise
from cases.voicemail import EMPTY_TRANSCRIPT
from casesearch.models import PendingCase
from core.dialect import is_sqlite, skip_locked
from knowledge import segmentation
from transcription.corrections import TranscriptCorrection
from transcription.models import Transcript

# Bump when a change of ``words`` / ``document`` changes the stored words of the same case: every
# case is then segmented again in the background (casesearch.rebuild).
INDEX_VERSION = 1
# Pending rows one refresh takes (and commits) at a time.
BATCH = 500
# A case waiting in the operator queue (PostgreSQL's ``case_search.queued``, migration 0031).
QUEUE_SQL = str(QUEUE_WHERE)
# What a case's own text says when there is none yet: never indexed.
PLACEHOLDERS = frozenset({VOICEMAIL_PLACEHOLDER, EMPTY_TRANSCRIPT})


@dataclass
class CaseTexts:
    """The texts of one case that the search looks in."""

    description: str = ""
    contact_name: str = ""
    enterprise: str = ""
    uscc: str = ""
    transcripts: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def labelled(self) -> list[tuple[str, str]]:
        """``(where, text)`` in the order a result shows them."""
        found = [("诉求内容", self.description)]
        found += [("留言转写", t) for t in self.transcripts]
        found += [("答复", r) for r in self.replies]
        found += [("企业", self.enterprise), ("联系人", self.contact_name), ("信用代码", self.uscc)]
        return [(label, value) for label, value in found if value]


def clean(token: str) -> str:
    """Letters and digits only: FTS5 and tsquery syntax never see an operator."""
    return "".join(ch for ch in token if ch.isalnum())


def words(value: str) -> list[str]:
    """The indexed words of one text (search mode: also the words inside longer ones)."""
    return [t for t in (clean(w) for w in segmentation.segment_for_search(value)) if t]


def document(texts: CaseTexts) -> str:
    """The space-separated words of a case, each once; every text segmented on its own."""
    return " ".join(dict.fromkeys(w for _label, value in texts.labelled() for w in words(value)))


def case_texts(session: Session, case_ids: Iterable[int]) -> dict[int, CaseTexts]:
    """The searchable texts of these cases (a case that does not exist is left out)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    found: dict[int, CaseTexts] = {}
    for case_id, description, contact, name, uscc in session.execute(
            select(Case.id, Case.description, Case.contact_name, Enterprise.name, Enterprise.uscc)
            .outerjoin(Enterprise, Enterprise.id == Case.enterprise_id)
            .where(Case.id.in_(ids))):
        found[case_id] = CaseTexts(
            description="" if description in PLACEHOLDERS else (description or ""),
            contact_name=contact or "", enterprise=name or "", uscc=uscc or "")
    add_replies_and_transcripts(session, found)
    return found


def add_replies_and_transcripts(session: Session, texts: dict[int, CaseTexts]) -> None:
    """Fill in the replies and transcripts of these cases, in one query."""
    if not texts:
        return
    ids = sorted(texts)
    last = aliased(TranscriptCorrection)
    latest = select(func.max(last.id)).where(last.transcript_id == Transcript.id) \
        .scalar_subquery()
    rows = union_all(
        select(Reply.case_id, literal("reply").label("kind"), Reply.text.label("value"),
               Reply.id.label("ord"), literal(0).label("sub"))
        .where(Reply.case_id.in_(ids)),
        select(Reply.case_id, literal("reply"), Reply.policy_basis, Reply.id, literal(1))
        .where(Reply.case_id.in_(ids), Reply.policy_basis.is_not(None)),
        select(CaseRecording.case_id, literal("transcript"), CaseRecording.transcript,
               CaseRecording.id, literal(0))
        .where(CaseRecording.case_id.in_(ids), CaseRecording.transcript.is_not(None)),
        # The operator's last correction of the transcript, if any.
        select(CaseRecording.case_id, literal("transcript"), TranscriptCorrection.text,
               CaseRecording.id, literal(1))
        .join(Transcript, Transcript.recording_id == CaseRecording.recording_id)
        .join(TranscriptCorrection, TranscriptCorrection.id == latest)
        .where(CaseRecording.case_id.in_(ids)),
    ).subquery()
    for case_id, kind, value, _ord, _sub in session.execute(
            select(rows).order_by(rows.c.kind, rows.c.ord, rows.c.sub)):
        if not value or value in PLACEHOLDERS:
            continue
        target = texts[case_id].replies if kind == "reply" else texts[case_id].transcripts
        if value not in target:
            target.append(value)


def _take_pending(session: Session, limit: int) -> list[int]:
    """Remove up to ``limit`` pending rows, oldest first; the distinct cases they name."""
    # Concurrent refreshes take different rows; a writer never waits (rows are inserted).
    oldest = skip_locked(select(PendingCase.id).order_by(PendingCase.id).limit(limit))
    taken = session.execute(
        delete(PendingCase).where(PendingCase.id.in_(oldest)).returning(PendingCase.case_id)
        .execution_options(synchronize_session=False)).scalars().all()
    return list(dict.fromkeys(taken))


def write(session: Session, documents: dict[int, str], gone: Sequence[int] = ()) -> None:
    """Store these cases' documents; drop the index rows of cases that no longer exist."""
    sqlite = is_sqlite(session)
    column = "rowid" if sqlite else "case_id"
    stale = [*documents, *gone]
    if stale and (sqlite or gone):
        session.execute(text(f"DELETE FROM case_search WHERE {column} IN "
                             f"({', '.join(str(int(i)) for i in (stale if sqlite else gone))})"))
    if not documents:
        return
    rows: list[dict[str, object]] = [{"id": case_id, "words": value}
                                     for case_id, value in documents.items()]
    if sqlite:
        session.execute(text("INSERT INTO case_search (rowid, words) VALUES (:id, :words)"), rows)
    else:
        # Whether each case waits in the queue (migration 0031): read with the cases locked
        # FOR SHARE, so a status change either committed before (and is read here) or waits
        # for this transaction and then updates the row written here (its trigger).
        queued = dict(session.execute(
            select(Case.id, literal_column(QUEUE_SQL, Boolean))
            .where(Case.id.in_(list(documents)))
            .order_by(Case.id).with_for_update(read=True)).tuples().all())
        for row, case_id in zip(rows, documents, strict=True):
            row["queued"] = bool(queued.get(case_id))
        session.execute(text(
            "INSERT INTO case_search (case_id, words, queued) VALUES (:id, :words, :queued) "
            "ON CONFLICT (case_id) DO UPDATE SET words = EXCLUDED.words, "
            "queued = EXCLUDED.queued"), rows)


def refresh(session: Session, limit: int = BATCH) -> int:
    """Segment the cases of the oldest pending rows again; returns how many cases."""
    session.flush()  # changes of this session first: their triggers add pending rows
    case_ids = _take_pending(session, limit)
    if not case_ids:
        return 0
    texts = case_texts(session, case_ids)
    write(session, {case_id: document(texts[case_id]) for case_id in case_ids
                    if case_id in texts},
          gone=[case_id for case_id in case_ids if case_id not in texts])
    return len(case_ids)


def pending_count(session: Session) -> int:
    """Cases waiting to be segmented (distinct)."""
    return session.scalar(select(func.count(func.distinct(PendingCase.case_id)))) or 0


def enqueue_all(session: Session) -> int:
    """Mark every case pending (a full rebuild); returns how many."""
    # Counted, not the statement's row count: psycopg reports -1 for this INSERT … SELECT
    # (``flask case-search reindex`` said it rebuilt -1 cases on PostgreSQL).
    before = session.scalar(select(func.max(PendingCase.id))) or 0
    session.execute(insert(PendingCase).from_select(
        ["case_id"], select(Case.id).order_by(Case.id)))
    return session.scalar(select(func.count()).where(PendingCase.id > before)) or 0
