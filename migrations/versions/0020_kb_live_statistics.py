"""knowledge base: document frequencies of published articles only, per validity range

``kb_term_stats`` gains the validity range its counts belong to (primary key: token, from,
until) and counts published articles only; ``kb_counted_articles`` remembers what each
article added. The counts are rebuilt here from the stored tokens of the published articles.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)
DOCS_KEY = " docs"


def _rebuild(stats: sa.Table, counted: sa.Table) -> None:
    bind = op.get_bind()
    column = "s.rowid" if bind.dialect.name == "sqlite" else "s.article_id"
    rows = bind.execute(sa.text(
        f"SELECT a.id, a.valid_from, a.valid_until, s.title, s.questions, s.answer, s.grams "
        f"FROM kb_articles a JOIN kb_search s ON {column} = a.id "
        "WHERE a.state = 'published'")).all()
    counts: Counter[tuple[str, date, date]] = Counter()
    articles = []
    for article_id, valid_from, valid_until, *fields in rows:
        window = (_day(valid_from) or FIRST_DAY, _day(valid_until) or LAST_DAY)
        tokens = {t[:100] for part in fields for t in (part or "").split()} | {DOCS_KEY}
        counts.update((t, *window) for t in tokens)
        articles.append({"article_id": article_id, "valid_from": window[0],
                         "valid_until": window[1]})
    if counts:
        op.bulk_insert(stats, [{"token": t, "valid_from": low, "valid_until": high, "df": n}
                               for (t, low, high), n in counts.items()])
    if articles:
        op.bulk_insert(counted, articles)


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))  # SQLite hands back the stored text


def upgrade() -> None:
    op.drop_table("kb_term_stats")
    stats = op.create_table(
        "kb_term_stats",
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", "valid_from", "valid_until",
                                name=op.f("pk_kb_term_stats")),
    )
    counted = op.create_table(
        "kb_counted_articles",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE",
                                name=op.f("fk_kb_counted_articles_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_counted_articles")),
    )
    _rebuild(stats, counted)


def downgrade() -> None:
    op.drop_table("kb_counted_articles")
    op.drop_table("kb_term_stats")
    stats = op.create_table(
        "kb_term_stats",
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_kb_term_stats")),
    )
    bind = op.get_bind()
    column = "s.rowid" if bind.dialect.name == "sqlite" else "s.article_id"
    rows = bind.execute(sa.text(
        f"SELECT s.title, s.questions, s.answer, s.grams FROM kb_search s "
        f"JOIN kb_articles a ON {column} = a.id")).all()
    counts: Counter[str] = Counter()
    for fields in rows:
        counts.update({t[:100] for part in fields for t in (part or "").split()} | {DOCS_KEY})
    if counts:
        op.bulk_insert(stats, [{"token": t, "df": n} for t, n in counts.items()])
