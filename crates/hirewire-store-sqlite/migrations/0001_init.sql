-- Timestamps are TEXT in one fixed format (RFC 3339, microseconds, Z) so that they sort
-- as text; JSON values are TEXT.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    credits INTEGER NOT NULL CHECK (credits >= 0),
    require_key_approval INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at TEXT,
    allowed_ips TEXT NOT NULL,
    last_used_at TEXT,
    previous_secret_expires_at TEXT,
    revoked_at TEXT,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    previous_hash TEXT
);
CREATE INDEX api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at, id);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    title TEXT NOT NULL,
    reference TEXT,
    description TEXT,
    city TEXT,
    country TEXT,
    employment_type TEXT,
    remote_type TEXT,
    apply_method TEXT,
    apply_email TEXT,
    apply_url TEXT,
    skills TEXT NOT NULL,
    min_experience_years REAL,
    status TEXT NOT NULL,
    posted_at TEXT,
    expires_at TEXT,
    closed_at TEXT,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at, id);
CREATE INDEX jobs_tenant_updated ON jobs (tenant_id, updated_at, id);
CREATE INDEX jobs_tenant_title ON jobs (tenant_id, title, id);
CREATE INDEX jobs_due ON jobs (expires_at) WHERE status = 'active';

-- The transactional outbox: an event is written in the transaction of its change.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    event_type TEXT NOT NULL,
    reference_id TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    dispatched_at TEXT
);
CREATE INDEX events_tenant_seq ON events (tenant_id, seq);
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor_key_id TEXT,
    attributed_user_id TEXT,
    client_id TEXT,
    request_id TEXT,
    trace_id TEXT,
    method TEXT,
    route TEXT,
    path TEXT,
    status INTEGER,
    ip TEXT,
    user_agent TEXT,
    duration_ms REAL,
    entity_type TEXT,
    entity_id TEXT,
    revision_before INTEGER,
    revision_after INTEGER
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at, id);
CREATE INDEX audit_events_entity ON audit_events (tenant_id, entity_id) WHERE entity_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,
    body BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
