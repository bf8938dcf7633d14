//! API key scopes (DESIGN §3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! scopes {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// A permission carried by an API key. `admin` implies every other scope.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum Scope {
            $(#[serde(rename = $name)] #[schema(rename = $name)] $variant,)+
        }

        impl Scope {
            /// Every scope, in documentation order.
            pub const ALL: &'static [Scope] = &[$(Scope::$variant,)+];

            /// The scope's wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $name,)+ }
            }
        }

        impl FromStr for Scope {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok(Scope::$variant),)+
                    other => Err(format!("unknown scope `{other}`")),
                }
            }
        }
    };
}

scopes! {
    JobsRead => "jobs:read",
    JobsWrite => "jobs:write",
    CandidatesRead => "candidates:read",
    CandidatesWrite => "candidates:write",
    CvSearch => "cv_search",
    ApplicationsRead => "applications:read",
    ApplicationsWrite => "applications:write",
    AssessmentsRead => "assessments:read",
    AssessmentsWrite => "assessments:write",
    VendorsManage => "vendors:manage",
    WebhooksManage => "webhooks:manage",
    IntegrationsManage => "integrations:manage",
    ReviewsManage => "reviews:manage",
    ReportsRead => "reports:read",
    AuditRead => "audit:read",
    KeysManage => "keys:manage",
    Admin => "admin",
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a key with `held` scopes may do what `needed` permits.
pub fn allows(held: &[Scope], needed: Scope) -> bool {
    held.iter().any(|s| *s == needed || *s == Scope::Admin)
}

/// Parses a comma-separated list such as `jobs:read,jobs:write`.
pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
    let mut out: Vec<Scope> = s
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Scope::from_str)
        .collect::<Result<_, _>>()?;
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err("at least one scope is needed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_everything() {
        for s in Scope::ALL {
            assert!(allows(&[Scope::Admin], *s));
        }
        assert!(!allows(&[Scope::JobsRead], Scope::JobsWrite));
    }

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), *s);
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(
            parse_list("jobs:write, jobs:read,jobs:read").unwrap(),
            vec![Scope::JobsRead, Scope::JobsWrite]
        );
        assert!(parse_list("jobs:fly").unwrap_err().contains("jobs:fly"));
    }
}
