//! E-mail addresses and links to profiles (LinkedIn, GitHub, GitLab, Stack Overflow, …) and
//! to a personal site.

use crate::profile::SocialProfile;
use regex::Regex;
use std::sync::LazyLock;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9][a-z0-9._%+'-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}\b")
        .expect("email regex")
});

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:https?://)?(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)+(?:com|org|net|io|dev|me|app|co|uk|de|es|fr|nl|pt|br|in|se|pl|jp|ch|at|it|eu|info|design|page|site|tech|xyz|ai|ca|us|au|be|dk|no|fi|ie|cz|ro|gr|hu|sk|cc|tv|art|studio|blog|online|codes|works|website|portfolio)\b(?:/[^\s|·,;()<>\x22]*)?")
        .expect("url regex")
});

/// The first e-mail address in `text`, lower-cased.
pub fn email(text: &str) -> Option<String> {
    EMAIL
        .find_iter(text)
        .map(|m| m.as_str().trim_end_matches('.').to_lowercase())
        .find(|e| !e.ends_with(".png") && !e.ends_with(".jpg"))
}

/// Known networks: (host fragment, network name, whether the first path segment is the user).
const NETWORKS: &[(&str, &str)] = &[
    ("linkedin.com", "LinkedIn"),
    ("github.com", "GitHub"),
    ("gitlab.com", "GitLab"),
    ("stackoverflow.com", "Stack Overflow"),
    ("twitter.com", "X"),
    ("x.com", "X"),
    ("behance.net", "Behance"),
    ("dribbble.com", "Dribbble"),
    ("medium.com", "Medium"),
    ("kaggle.com", "Kaggle"),
    ("bitbucket.org", "Bitbucket"),
    ("xing.com", "XING"),
    ("scholar.google.com", "Google Scholar"),
    ("orcid.org", "ORCID"),
    ("researchgate.net", "ResearchGate"),
];

/// Profiles on known networks, and the first other URL as the personal site.
pub fn links(text: &str, email: Option<&str>) -> (Vec<SocialProfile>, Option<String>) {
    let email_domain = email.and_then(|e| e.split('@').nth(1)).unwrap_or("");
    let mut profiles: Vec<SocialProfile> = Vec::new();
    let mut site = None;
    for m in URL.find_iter(text) {
        let start = m.start();
        // Part of an e-mail address.
        if text[..start].ends_with('@') || text[..start].ends_with('.') {
            continue;
        }
        let raw = m.as_str().trim_end_matches(['.', ',', ')', ':', ';']);
        let bare = raw
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("HTTPS://")
            .trim_start_matches("HTTP://");
        let bare_nowww = bare.trim_start_matches("www.");
        let host = bare_nowww.split('/').next().unwrap_or("").to_lowercase();
        if host.is_empty() || host == email_domain {
            continue;
        }
        let path = bare_nowww.split_once('/').map_or("", |(_, p)| p);
        if let Some((frag, network)) = NETWORKS
            .iter()
            .find(|(h, _)| host == *h || host.ends_with(&format!(".{h}")))
        {
            let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let username = match *frag {
                "linkedin.com" => segs
                    .iter()
                    .position(|s| *s == "in" || *s == "pub")
                    .and_then(|i| segs.get(i + 1))
                    .map(|s| s.to_string()),
                "stackoverflow.com" => segs.get(2).or(segs.get(1)).map(|s| s.to_string()),
                _ => segs.first().map(|s| s.trim_start_matches('@').to_string()),
            };
            let Some(username) = username.filter(|u| !u.is_empty()) else {
                continue;
            };
            let url = canonical_url(frag, bare);
            if profiles.iter().any(|p| p.network == *network) {
                continue;
            }
            profiles.push(SocialProfile {
                network: network.to_string(),
                username: Some(username),
                url,
            });
        } else if site.is_none() && looks_like_site(&host, path) {
            site = Some(if raw.to_lowercase().starts_with("http") {
                raw.to_string()
            } else {
                format!("https://{raw}")
            });
        }
    }
    (profiles, site)
}

fn canonical_url(frag: &str, bare: &str) -> String {
    let bare = bare.trim_end_matches('/');
    if frag == "linkedin.com" && !bare.starts_with("www.") {
        let rest = bare.split_once('/').map_or("", |(_, p)| p);
        return format!("https://www.linkedin.com/{rest}");
    }
    format!("https://{bare}")
}

fn looks_like_site(host: &str, _path: &str) -> bool {
    // Technology names that look like host names, and hosts that are nobody's portfolio.
    const NOT_SITES: &[&str] = &[
        "asp.net",
        "ado.net",
        "vb.net",
        "example.com",
        "google.com",
        "gmail.com",
    ];
    !NOT_SITES.contains(&host) && host.chars().filter(|c| *c == '.').count() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("Jane · Jane.Doe+cv@Example.co.uk · +44").as_deref(),
            Some("jane.doe+cv@example.co.uk")
        );
        assert_eq!(email("no mail here"), None);
    }

    #[test]
    fn profiles_and_site() {
        let (p, site) = links(
            "jane@janedoe.dev · linkedin.com/in/jane-doe · https://github.com/jdoe · https://janedoe.design/work",
            Some("jane@janedoe.dev"),
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].network, "LinkedIn");
        assert_eq!(p[0].username.as_deref(), Some("jane-doe"));
        assert_eq!(p[0].url, "https://www.linkedin.com/in/jane-doe");
        assert_eq!(p[1].url, "https://github.com/jdoe");
        assert_eq!(site.as_deref(), Some("https://janedoe.design/work"));
    }
}
