//! End-to-end tests over HTTP, each on SQLite and on PostgreSQL.

mod helpers;

mod conventions;
mod jobs;
mod ops;
mod outbox;
mod ratelimit;
mod keys;
mod isolation;
mod audit;
