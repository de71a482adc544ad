"""case search: the words of every case in a full-text index, kept current by triggers

``case_search`` holds each case's words (segmented by the application): an FTS5 table on
SQLite, a generated ``tsvector`` with a GIN index on PostgreSQL. Triggers on cases, replies,
case_recordings, transcript_corrections and enterprises add a row to ``case_search_pending``
whenever a searched text may have changed; the application segments those cases again.
Every existing case starts pending (the periodic job, or ``flask case-search reindex``).

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# (table, events, the case id of NEW / OLD rows) for the triggers.
PENDING = "INSERT INTO case_search_pending (case_id)"
SQLITE_TRIGGERS = {
    "case_search_cases_insert": f"AFTER INSERT ON cases BEGIN {PENDING} VALUES (NEW.id); END",
    "case_search_cases_update": ("AFTER UPDATE OF description, contact_name, enterprise_id "
                                 f"ON cases BEGIN {PENDING} VALUES (NEW.id); END"),
    "case_search_cases_delete": f"AFTER DELETE ON cases BEGIN {PENDING} VALUES (OLD.id); END",
    "case_search_replies_insert": (f"AFTER INSERT ON replies BEGIN {PENDING} "
                                   "VALUES (NEW.case_id); END"),
    "case_search_replies_update": ("AFTER UPDATE OF text, policy_basis, case_id ON replies "
                                   f"BEGIN {PENDING} VALUES (NEW.case_id); "
                                   f"{PENDING} SELECT OLD.case_id WHERE OLD.case_id <> NEW.case_id;"
                                   " END"),
    "case_search_replies_delete": (f"AFTER DELETE ON replies BEGIN {PENDING} "
                                   "VALUES (OLD.case_id); END"),
    "case_search_recordings_insert": (f"AFTER INSERT ON case_recordings BEGIN {PENDING} "
                                      "VALUES (NEW.case_id); END"),
    "case_search_recordings_update": (
        "AFTER UPDATE OF transcript, case_id ON case_recordings "
        f"BEGIN {PENDING} VALUES (NEW.case_id); "
        f"{PENDING} SELECT OLD.case_id WHERE OLD.case_id <> NEW.case_id; END"),
    "case_search_recordings_delete": (f"AFTER DELETE ON case_recordings BEGIN {PENDING} "
                                      "VALUES (OLD.case_id); END"),
    "case_search_corrections_insert": (
        f"AFTER INSERT ON transcript_corrections BEGIN {PENDING} "
        "SELECT cr.case_id FROM case_recordings cr JOIN transcripts t "
        "ON t.recording_id = cr.recording_id WHERE t.id = NEW.transcript_id; END"),
    "case_search_enterprises_update": (
        f"AFTER UPDATE OF name, uscc ON enterprises BEGIN {PENDING} "
        "SELECT id FROM cases WHERE enterprise_id = NEW.id; END"),
}

PG_FUNCTIONS = {
    # A case itself: its id.
    "case_search_touch_case": f"""
        IF TG_OP = 'DELETE' THEN {PENDING} VALUES (OLD.id); ELSE {PENDING} VALUES (NEW.id);
        END IF;""",
    # A row of a case (reply, linked recording): its case, and the case it left.
    "case_search_touch_child": f"""
        IF TG_OP <> 'DELETE' THEN {PENDING} VALUES (NEW.case_id); END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.case_id <> NEW.case_id) THEN
            {PENDING} VALUES (OLD.case_id);
        END IF;""",
    "case_search_touch_correction": f"""
        {PENDING} SELECT cr.case_id FROM case_recordings cr JOIN transcripts t
            ON t.recording_id = cr.recording_id WHERE t.id = NEW.transcript_id;""",
    "case_search_touch_enterprise": f"""
        {PENDING} SELECT id FROM cases WHERE enterprise_id = NEW.id;""",
}
PG_TRIGGERS = {
    "case_search_cases": ("AFTER INSERT OR DELETE OR UPDATE OF description, contact_name, "
                          "enterprise_id ON cases", "case_search_touch_case"),
    "case_search_replies": ("AFTER INSERT OR DELETE OR UPDATE OF text, policy_basis, case_id "
                            "ON replies", "case_search_touch_child"),
    "case_search_recordings": ("AFTER INSERT OR DELETE OR UPDATE OF transcript, case_id "
                               "ON case_recordings", "case_search_touch_child"),
    "case_search_corrections": ("AFTER INSERT ON transcript_corrections",
                                "case_search_touch_correction"),
    "case_search_enterprises": ("AFTER UPDATE OF name, uscc ON enterprises",
                                "case_search_touch_enterprise"),
}


def upgrade() -> None:
    op.create_table(
        "case_search_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_search_pending")),
    )
    with op.batch_alter_table("case_search_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_search_pending_case_id"), ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE case_search ("
            " case_id integer PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,"
            " words text NOT NULL,"
            " vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', words)) STORED)")
        op.execute("CREATE INDEX ix_case_search_vector ON case_search USING gin (vector)")
        for name, body in PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {body} RETURN NULL; END $$")
        for name, (when, function) in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW EXECUTE FUNCTION {function}()")
    else:
        # Positions are not needed (no phrase queries, no ranking): detail=none keeps it small.
        op.execute("CREATE VIRTUAL TABLE case_search USING fts5("
                   "words, tokenize = 'unicode61', detail = none)")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO case_search_pending (case_id) SELECT id FROM cases ORDER BY id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (when, _function) in PG_TRIGGERS.items():
            table = when.rsplit(" ON ", 1)[1]
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS case_search")
    with op.batch_alter_table("case_search_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_search_pending_case_id"))
    op.drop_table("case_search_pending")
