-- The PostgreSQL twin of the SQLite schema: same tables, columns and indexes, with native
-- types (TIMESTAMPTZ, JSONB, BIGINT, DOUBLE PRECISION, BOOLEAN, BYTEA). The text columns that
-- serve as keyset sort keys (ids and job titles) use the "C" collation, so that they sort
-- byte by byte as in SQLite whatever the database's default collation.
CREATE TABLE tenants (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    credits BIGINT NOT NULL CHECK (credits >= 0),
    require_key_approval BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    scopes JSONB NOT NULL,
    status TEXT NOT NULL,
    expires_at TIMESTAMPTZ,
    allowed_ips JSONB NOT NULL,
    last_used_at TIMESTAMPTZ,
    previous_secret_expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    previous_hash TEXT
);
CREATE INDEX api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at, id);

CREATE TABLE jobs (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    title TEXT COLLATE "C" NOT NULL,
    reference TEXT,
    description TEXT,
    city TEXT,
    country TEXT,
    employment_type TEXT,
    remote_type TEXT,
    apply_method TEXT,
    apply_email TEXT,
    apply_url TEXT,
    skills JSONB NOT NULL,
    min_experience_years DOUBLE PRECISION,
    status TEXT NOT NULL,
    posted_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at, id);
CREATE INDEX jobs_tenant_updated ON jobs (tenant_id, updated_at, id);
CREATE INDEX jobs_tenant_title ON jobs (tenant_id, title, id);
CREATE INDEX jobs_due ON jobs (expires_at) WHERE status = 'active';

-- The transactional outbox: an event is written in the transaction of its change.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    event_type TEXT NOT NULL,
    reference_id TEXT,
    data JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    dispatched_at TIMESTAMPTZ
);
CREATE INDEX events_tenant_seq ON events (tenant_id, seq);
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;

CREATE TABLE audit_events (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_key_id TEXT,
    attributed_user_id TEXT,
    client_id TEXT,
    request_id TEXT,
    trace_id TEXT,
    method TEXT,
    route TEXT,
    path TEXT,
    status BIGINT,
    ip TEXT,
    user_agent TEXT,
    duration_ms DOUBLE PRECISION,
    entity_type TEXT,
    entity_id TEXT,
    revision_before BIGINT,
    revision_after BIGINT
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at, id);
CREATE INDEX audit_events_entity ON audit_events (tenant_id, entity_id) WHERE entity_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code BIGINT,
    body BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
