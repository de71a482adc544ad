"""case search: the operator queue's cases in a full-text index of their own (PostgreSQL)

A word search of the queue looks through the queue's newest 10,000 cases first and then
through the GIN index for older ones. A word that is common among all cases but rare among
waiting ones (容积率, written only in replies) made that second step read every case that has
it, tens of thousands, to keep none: ~0.4 s at a million cases. ``case_search.queued`` says
whether the case waits in the queue (``status = 'received'``) and a partial GIN index holds
only those rows, so the queue's second step reads the queue's own matches.

The flag follows the case: a trigger sets it when the status changes, and
``casesearch.index.write`` sets it when a row is written, with the cases locked ``FOR
SHARE`` so that a status change and a refresh never pass each other. SQLite (small
deployments) keeps its FTS5 table as it is.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

QUEUE = "status = 'received'"
FUNCTION = (
    "CREATE FUNCTION case_search_queued() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE case_search SET queued = (NEW.{QUEUE}) WHERE case_id = NEW.id "
    f"AND queued IS DISTINCT FROM (NEW.{QUEUE}); RETURN NULL; END $$")
TRIGGER = ("CREATE TRIGGER case_search_queued AFTER UPDATE OF status ON cases FOR EACH ROW "
           "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION case_search_queued()")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE case_search ADD COLUMN queued boolean NOT NULL DEFAULT false")
    op.execute("UPDATE case_search s SET queued = true FROM cases c "
               f"WHERE c.id = s.case_id AND c.{QUEUE}")
    op.execute("CREATE INDEX ix_case_search_queued ON case_search USING gin (vector) "
               "WHERE queued")
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS case_search_queued ON cases")
    op.execute("DROP FUNCTION IF EXISTS case_search_queued()")
    op.execute("DROP INDEX IF EXISTS ix_case_search_queued")
    op.execute("ALTER TABLE case_search DROP COLUMN queued")
