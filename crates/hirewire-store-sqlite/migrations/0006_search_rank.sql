-- Candidate search serves its results one score at a time, each in `seq` order (the most
-- recently added candidate first), from the full-text index's rowid order (rowid = seq). A
-- search without words walks this index: (tenant_id, then seq, SQLite's rowid).
CREATE INDEX candidates_tenant_seq ON candidates (tenant_id);
