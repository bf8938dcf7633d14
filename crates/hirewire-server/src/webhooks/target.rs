//! The guard against server-side request forgery: webhook targets must be public https
//! endpoints. The address checked is the address connected to, because the HTTP client
//! resolves names through [`GuardedResolver`]; a name that resolved to a public address when
//! the subscription was made and to a private one later (DNS rebinding) is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is one a webhook may not reach: loopback, private, link-local (which
/// holds the cloud metadata endpoints), CGNAT, unspecified, broadcast, multicast, reserved or
/// documentation ranges, and IPv6 forms that embed such an IPv4 address.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // IPv4-compatible
}

/// Why a target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks a subscription's URL before it is saved: https, and a host that resolves only to
/// public addresses. `allow_insecure` (development mode) skips every check.
pub async fn vet(url: &str, allow_insecure: bool) -> Result<(), Refused> {
    if allow_insecure {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|e| Refused(format!("not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(Refused(
            "webhook targets must use https (plain http is allowed only in development mode)"
                .into(),
        ));
    }
    check_literal(&parsed)?;
    let Some(url::Host::Domain(host)) = parsed.host() else {
        return Ok(());
    };
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Refused(format!("`{host}` does not resolve: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Refused(format!("`{host}` does not resolve")));
    }
    if let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip())) {
        return Err(Refused(format!(
            "`{host}` resolves to {}, a private or reserved address",
            bad.ip()
        )));
    }
    Ok(())
}

/// Refuses a URL whose host is a forbidden IP literal; names are left to the resolver.
pub fn check_literal(url: &url::Url) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if is_forbidden(ip) {
        return Err(Refused(format!("{ip} is a private or reserved address")));
    }
    Ok(())
}

/// A resolver for the HTTP client that drops forbidden addresses, so that the client can only
/// connect to public ones.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Refused(format!(
                    "`{host}` resolves only to private or reserved addresses"
                ))
                .into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(
                is_forbidden(ip.parse().unwrap()),
                "{ip} should be forbidden"
            );
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }

    #[tokio::test]
    async fn vetting_refuses_http_private_literals_and_local_names() {
        assert!(vet("http://example.com/hook", false).await.is_err());
        assert!(vet("https://127.0.0.1/hook", false).await.is_err());
        assert!(vet("https://[::1]:8443/hook", false).await.is_err());
        assert!(vet("https://169.254.169.254/latest", false).await.is_err());
        assert!(vet("https://localhost/hook", false).await.is_err());
        assert!(vet("https://93.184.216.34/hook", false).await.is_ok());
        assert!(vet("http://127.0.0.1/hook", true).await.is_ok());
    }

    #[tokio::test]
    async fn the_resolver_never_hands_out_forbidden_addresses() {
        let err = GuardedResolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost must be refused");
        assert!(err.to_string().contains("private or reserved"), "{err}");
    }
}
