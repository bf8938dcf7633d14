//! Hirewire's domain: the models, the rules that govern them, the errors they raise and the
//! store traits that persist them. Nothing here knows about HTTP or SQL.

pub mod context;
pub mod error;
pub mod event;
pub mod ids;
pub mod model;
pub mod page;
pub mod scope;
pub mod service;
pub mod store;
pub mod time;

pub use context::Actor;
pub use error::{DomainError, DomainResult, StoreError};
