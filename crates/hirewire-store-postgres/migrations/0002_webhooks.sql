-- Outgoing webhooks, the PostgreSQL twin of SQLite's 0002. The dispatcher fans each outbox
-- event out into one delivery per subscription that wants it and gives the event its position
-- in the feed: positions are handed out under a transaction-level advisory lock, by one
-- dispatcher at a time, so they follow commit order.
ALTER TABLE events ADD COLUMN position BIGINT;
ALTER TABLE events ADD COLUMN causation_id TEXT;
ALTER TABLE events ADD COLUMN trace_id TEXT;
-- Set for events meant for one subscription only (pings); they stay out of the feed.
ALTER TABLE events ADD COLUMN subscription_id TEXT;
CREATE UNIQUE INDEX events_position ON events (position);
CREATE INDEX events_feed ON events (tenant_id, position) WHERE position IS NOT NULL AND subscription_id IS NULL;

CREATE TABLE webhook_subscriptions (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    events JSONB NOT NULL,
    description TEXT,
    is_active BOOLEAN NOT NULL,
    filter JSONB NOT NULL,
    include_pii BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMPTZ,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    failing_since TIMESTAMPTZ,
    disabled_at TIMESTAMPTZ,
    disabled_reason TEXT,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, created_at, id);
CREATE INDEX webhook_subscriptions_active ON webhook_subscriptions (tenant_id) WHERE is_active;

-- A lease (leased_until, lease_owner) marks a delivery a worker is sending; a worker that
-- dies loses its leases when they run out, and another worker sends the delivery again.
CREATE TABLE webhook_deliveries (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    subscription_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id),
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    leased_until TIMESTAMPTZ,
    lease_owner TEXT,
    last_attempt_at TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription_id, next_attempt_at, id)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (subscription_id, leased_until)
    WHERE leased_until IS NOT NULL;
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (subscription_id, created_at, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    id TEXT COLLATE "C" PRIMARY KEY,
    delivery_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER,
    response_headers JSONB NOT NULL,
    response_body TEXT,
    error TEXT,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

-- Deliveries are a work queue: each row is updated when leased and again when done, and the
-- claim scans walk the dead index entries that leaves until VACUUM clears them. Vacuum these
-- tables early and without throttling instead of after a fifth of them has changed.
ALTER TABLE webhook_deliveries SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
