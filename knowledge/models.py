"""Knowledge-base tables: articles, their version history, synonym groups, term statistics.

The search index itself (``kb_search``) is dialect-specific — an FTS5 virtual table on SQLite,
a table with a generated ``tsvector`` column and a GIN index on PostgreSQL — so it is created by
the migration and written with SQL in :mod:`knowledge.search`, not mapped here.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models import Department
from core.centre import CENTRE_NAME
from core.db import Base, UtcDateTime, utcnow

SPOKEN_ANSWER_MAX = 300


class ArticleState(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


STATE_LABELS: dict[str, str] = {
    ArticleState.DRAFT: "草稿",
    ArticleState.REVIEW: "待审核",
    ArticleState.PUBLISHED: "已发布",
    ArticleState.WITHDRAWN: "已撤下",
}


class Article(Base):
    """One standard answer (知识条目) and the questions it answers."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        Index("ix_kb_articles_state", "state", "valid_until"),
        Index("ix_kb_articles_phone", "phone", "phone_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    # Several phrasings of the question, as enterprises ask it.
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The full answer: paragraphs separated by blank lines, list items starting with "- ".
    answer: Mapped[str] = mapped_column(Text)
    spoken_answer: Mapped[str] = mapped_column(String(SPOKEN_ANSWER_MAX), default="")
    category: Mapped[str | None] = mapped_column(String(16))
    subcategory: Mapped[str | None] = mapped_column(String(16))
    # None: the centre itself owns the article.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    source_document: Mapped[str] = mapped_column(String(200), default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=ArticleState.DRAFT)
    # Offered in the phone menu under 政策咨询 (at most eight, in phone_order).
    phone: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_order: Mapped[int] = mapped_column(Integer, default=0)
    # Content version: increases with every change of the text or its metadata.
    version: Mapped[int] = mapped_column(Integer, default=1)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reviewed_by: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()
    history: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.id"
    )

    @property
    def unit_name(self) -> str:
        return self.department.name if self.department else CENTRE_NAME

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


class ArticleVersion(Base):
    """One entry of an article's history: who did what, and the content after it."""

    __tablename__ = "kb_article_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    # The article's fields after the action (title, questions, answer, …).
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Field names whose values the action changed.
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    article: Mapped[Article] = relationship(back_populates="history")


class SynonymGroup(Base):
    """Words a search treats as the same (贷款 / 融资); edited by the administrator."""

    __tablename__ = "kb_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    words: Mapped[str] = mapped_column(String(500))  # space-separated
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# Validity bounds of the statistics rows: an article without a start or an end date counts
# from the first day or to the last one (a primary key cannot hold NULL).
FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)


class TermStat(Base):
    """How many published articles, valid in one date range, contain a token.

    The document frequencies behind the IDF count published articles only, split by their
    validity (``valid_from``–``valid_until``; most articles have none and share one row per
    token): a search sums the rows whose range holds its day, so drafts, withdrawn articles and
    articles not in force that day never change a ranking.
    """

    __tablename__ = "kb_term_stats"

    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_until: Mapped[date] = mapped_column(Date, primary_key=True)
    df: Mapped[int] = mapped_column(Integer, default=0)


class CountedArticle(Base):
    """An article whose tokens are counted in ``kb_term_stats``, with the range counted under.

    Kept so that a later edit, withdrawal or change of dates takes off exactly what was added.
    """

    __tablename__ = "kb_counted_articles"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)


class SearchIndexState(Base):
    """What a search index's tokens were segmented with: one row per index (``kb``, ``cases``).

    ``fingerprint`` is recorded only when a rebuild with the current dictionaries and
    segmentation code is complete (:mod:`knowledge.index_state`); ``building`` names the
    fingerprint a rebuild in progress works towards, and ``building_upto`` the last pending
    row that rebuild queued (case search: the rebuild is complete when none of them is left).
    """

    __tablename__ = "search_index_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    building: Mapped[str | None] = mapped_column(String(64))
    building_upto: Mapped[int | None] = mapped_column(Integer)
