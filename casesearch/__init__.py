"""Full-text search of cases: request text, transcripts, replies, enterprise and contact names.

The case's words are segmented with the knowledge base's Chinese segmentation
(:mod:`knowledge.segmentation`) and stored in ``case_search`` — an FTS5 table on SQLite, a
``tsvector`` with a GIN index on PostgreSQL (docs/case-search.md says why not trigrams).
Database triggers note every case whose words may have changed (``case_search_pending``)
on every write path; :func:`casesearch.index.refresh` (a periodic job) segments them, and a
search reads the few not yet segmented itself, so what was written a moment ago is found.
"""
