//! End-to-end tests over HTTP, each on SQLite and on PostgreSQL.

mod helpers;

mod applications;
mod audit;
mod candidates;
mod conventions;
mod evaluations;
mod imports;
mod interop;
mod isolation;
mod jobs;
mod keys;
mod ops;
mod outbox;
mod ratelimit;
mod receiver;
mod webhooks;
