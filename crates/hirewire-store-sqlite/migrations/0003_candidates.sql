-- Candidates, their documents, and asynchronous operations (which double as the work queue).
CREATE TABLE candidates (
    -- A stable integer key for the full-text index's rowid.
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    -- Normalised lookup keys, written by the domain (see CandidateKeys). Small columns come
    -- first: SQLite stores a row's columns in order, and a filter on a column placed after
    -- the profile would read the profile's overflow pages too.
    email_key TEXT,
    phone_key TEXT,
    name_key TEXT NOT NULL,
    location_key TEXT,
    source_key TEXT,
    total_experience_years REAL,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    source TEXT,
    external_ids TEXT NOT NULL,
    tags TEXT NOT NULL,
    provenance TEXT NOT NULL,
    profile TEXT NOT NULL
);
CREATE UNIQUE INDEX candidates_email ON candidates (tenant_id, email_key) WHERE email_key IS NOT NULL;
CREATE INDEX candidates_phone ON candidates (tenant_id, phone_key) WHERE phone_key IS NOT NULL;
CREATE INDEX candidates_tenant_created ON candidates (tenant_id, created_at, id);
CREATE INDEX candidates_tenant_updated ON candidates (tenant_id, updated_at, id);
CREATE INDEX candidates_tenant_name ON candidates (tenant_id, name_key, id);

-- One id per (tenant, source): the primary key is the dedupe rule.
CREATE TABLE candidate_external_ids (
    tenant_id TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, source, external_id)
);
CREATE INDEX candidate_external_ids_candidate ON candidate_external_ids (candidate_id);

CREATE TABLE candidate_skills (
    tenant_id TEXT NOT NULL,
    skill TEXT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, skill, candidate_id)
);
CREATE INDEX candidate_skills_candidate ON candidate_skills (candidate_id);

CREATE TABLE candidate_tags (
    tenant_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, tag, candidate_id)
);
CREATE INDEX candidate_tags_candidate ON candidate_tags (candidate_id);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    filename TEXT,
    content_type TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    parse_status TEXT NOT NULL,
    parse_error TEXT,
    reference_id TEXT NOT NULL,
    -- The text extracted by the parser, and its search tokens.
    text TEXT,
    search_text TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX documents_candidate ON documents (candidate_id, created_at);

-- Kept apart so that reading documents' metadata never loads their bytes.
CREATE TABLE document_contents (
    document_id TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    content BLOB NOT NULL
);

CREATE TABLE operations (
    reference_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    subject_id TEXT,
    input TEXT,
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX operations_pending ON operations (kind, created_at) WHERE status = 'pending';

-- The body of a bulk import, cut at record boundaries, so that neither the upload nor the
-- worker holds the whole file in memory; deleted when the import ends.
CREATE TABLE import_chunks (
    reference_id TEXT NOT NULL REFERENCES operations (reference_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    first_row INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (reference_id, seq)
);

-- Full-text search over token strings made by the application (model/search.rs), so that this
-- index and PostgreSQL's see the same tokens. rowid = candidates.seq.
CREATE VIRTUAL TABLE candidate_search USING fts5 (
    skills,
    titles,
    doc,
    tokenize = 'unicode61 remove_diacritics 0'
);
