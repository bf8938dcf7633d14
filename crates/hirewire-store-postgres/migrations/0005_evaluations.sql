-- Evaluations (every one kept: the history), each application's latest score, per-job
-- scoring weights, and review items.
ALTER TABLE jobs ADD COLUMN scoring_weights JSONB;

ALTER TABLE applications ADD COLUMN evaluation_id TEXT;
ALTER TABLE applications ADD COLUMN score INTEGER;
ALTER TABLE applications ADD COLUMN band TEXT;
ALTER TABLE applications ADD COLUMN confidence DOUBLE PRECISION;
ALTER TABLE applications ADD COLUMN evaluated_at TIMESTAMPTZ;
ALTER TABLE applications ADD COLUMN evaluation_reference_id TEXT;
-- Unscored applications sort as -1, the same expression the store sorts on.
CREATE INDEX applications_tenant_score ON applications (tenant_id, COALESCE(score, -1), id);
CREATE INDEX applications_job_score ON applications (tenant_id, job_id, COALESCE(score, -1), id);
CREATE INDEX applications_candidate ON applications (tenant_id, candidate_id, created_at, id);

CREATE TABLE evaluations (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    application_id TEXT REFERENCES applications (id) ON DELETE CASCADE,
    score INTEGER NOT NULL,
    band TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    evaluator TEXT NOT NULL,
    model_version TEXT NOT NULL,
    triggered_by TEXT NOT NULL,
    reference_id TEXT,
    -- dimensions, matched_skills, missing_skills and rationale, as the API shows them.
    details JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX evaluations_tenant_created ON evaluations (tenant_id, created_at, id);
CREATE INDEX evaluations_candidate ON evaluations (tenant_id, candidate_id, created_at, id);
CREATE INDEX evaluations_job ON evaluations (tenant_id, job_id, created_at, id);
CREATE INDEX evaluations_application ON evaluations (application_id, created_at, id);

CREATE TABLE reviews (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    candidate_id TEXT REFERENCES candidates (id) ON DELETE CASCADE,
    job_id TEXT,
    application_id TEXT,
    reason TEXT NOT NULL,
    details JSONB NOT NULL,
    resolution TEXT,
    resolution_note TEXT,
    resolved_by_key_id TEXT,
    resolved_by_user_id TEXT,
    resolved_at TIMESTAMPTZ,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reviews_tenant_created ON reviews (tenant_id, created_at, id);
CREATE INDEX reviews_candidate ON reviews (candidate_id);
-- One open item of a kind per candidate and job.
CREATE UNIQUE INDEX reviews_open ON reviews (tenant_id, kind, candidate_id, job_id) WHERE status = 'open';
