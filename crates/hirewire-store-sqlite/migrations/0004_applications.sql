-- Applications: one per candidate and job, with the history of their moves.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    rejection_reason TEXT,
    status_history TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX applications_pair ON applications (tenant_id, candidate_id, job_id);
CREATE INDEX applications_tenant_created ON applications (tenant_id, created_at, id);
CREATE INDEX applications_tenant_updated ON applications (tenant_id, updated_at, id);
CREATE INDEX applications_job ON applications (tenant_id, job_id, created_at, id);
