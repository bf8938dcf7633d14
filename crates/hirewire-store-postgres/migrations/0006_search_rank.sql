-- Candidate search serves its results one score at a time, each in `seq` order (the most
-- recently added candidate first, as SQLite's full-text rowid orders them), and stops when
-- the page is full: a tier that many candidates reach walks (tenant_id, seq) backwards and
-- tests each row, one that few reach is read from the GIN index of the column it names.
CREATE SEQUENCE candidate_search_seq;
ALTER TABLE candidate_search ADD COLUMN seq BIGINT;
-- Existing rows, in the order their candidates were added.
UPDATE candidate_search s SET seq = o.n
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM candidates) o
WHERE o.id = s.candidate_id;
SELECT setval('candidate_search_seq', COALESCE((SELECT max(seq) FROM candidate_search), 0) + 1, false);
ALTER TABLE candidate_search
    ALTER COLUMN seq SET DEFAULT nextval('candidate_search_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE candidate_search_seq OWNED BY candidate_search.seq;
CREATE UNIQUE INDEX candidate_search_tenant_seq ON candidate_search (tenant_id, seq);
-- GIN's pending list keeps writes cheap (an import inserts thousands of rows a second), but
-- every search scans it until VACUUM empties it: a small one bounds that cost.
CREATE INDEX candidate_search_skills ON candidate_search USING GIN (skills) WITH (gin_pending_list_limit = 256);
CREATE INDEX candidate_search_titles ON candidate_search USING GIN (titles) WITH (gin_pending_list_limit = 256);
-- A search's `skills` filter tests candidate_skills per candidate (or, for a rare skill, reads
-- it first): its candidate_id must compare in the collation of the ids it is matched with
-- ("C", as candidates.id and candidate_search.candidate_id), or no index serves the match.
ALTER TABLE candidate_skills ALTER COLUMN candidate_id TYPE TEXT COLLATE "C";
