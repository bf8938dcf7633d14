-- Outgoing webhooks. The dispatcher fans each outbox event out into one delivery per
-- subscription that wants it and gives the event its position in the feed: positions are
-- handed out by one dispatcher at a time, so they follow commit order.
ALTER TABLE events ADD COLUMN position INTEGER;
ALTER TABLE events ADD COLUMN causation_id TEXT;
ALTER TABLE events ADD COLUMN trace_id TEXT;
-- Set for events meant for one subscription only (pings); they stay out of the feed.
ALTER TABLE events ADD COLUMN subscription_id TEXT;
CREATE UNIQUE INDEX events_position ON events (position);
CREATE INDEX events_feed ON events (tenant_id, position) WHERE position IS NOT NULL AND subscription_id IS NULL;

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    is_active INTEGER NOT NULL,
    filter TEXT NOT NULL,
    include_pii INTEGER NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    disabled_at TEXT,
    disabled_reason TEXT,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, created_at, id);
CREATE INDEX webhook_subscriptions_active ON webhook_subscriptions (tenant_id) WHERE is_active = 1;

-- A lease (leased_until, lease_owner) marks a delivery a worker is sending; a worker that
-- dies loses its leases when they run out, and another worker sends the delivery again.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id),
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT,
    leased_until TEXT,
    lease_owner TEXT,
    last_attempt_at TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription_id, next_attempt_at, id)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (subscription_id, leased_until)
    WHERE leased_until IS NOT NULL;
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (subscription_id, created_at, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    response_headers TEXT NOT NULL,
    response_body TEXT,
    error TEXT,
    succeeded INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
