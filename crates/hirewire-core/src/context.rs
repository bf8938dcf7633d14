//! Who is acting, for the audit trail and for tenant scoping.

/// The authenticated caller of an operation and the attribution it carries.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// Every read and write is confined to this tenant.
    pub tenant_id: String,
    /// The API key used, if any (`None` for the CLI and background workers).
    pub key_id: Option<String>,
    /// `X-ATS-User-ID`: the person on whose behalf a client acts.
    pub user_id: Option<String>,
    /// `X-ATS-Client-ID`: the integrating system.
    pub client_id: Option<String>,
    /// The request's id, so a change can be tied to the call that made it.
    pub request_id: Option<String>,
    /// The W3C trace id of the request.
    pub trace_id: Option<String>,
    /// The asynchronous operation under way, whose `reference_id` the events it causes carry.
    pub reference_id: Option<String>,
}

impl Actor {
    /// An actor for work the system does on its own (job expiry, the CLI).
    pub fn system(tenant_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            ..Self::default()
        }
    }
}
