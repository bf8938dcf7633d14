//! Signs and verifies Hirewire's outgoing webhooks (DESIGN §5).
//!
//! Every delivery carries two signatures so that a receiver can check it with the library it
//! already has: `X-Webhook-Signature` in Stripe's scheme and `webhook-signature` in the
//! Standard Webhooks scheme. The crate is pure — the caller passes the time and the random
//! bytes — so the sender, the test receivers and a fuzzer all get the same answers.

#![forbid(unsafe_code)]

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a timestamp may stray from the receiver's clock, either way, before a delivery counts as a replay (Stripe's and Standard Webhooks' 5 minutes).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

const SECRET_PREFIX: &str = "whsec_";

/// Decodes with or without padding, as the `standardwebhooks` libraries do, but refuses
/// characters outside the standard alphabet instead of silently dropping them.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a set of secrets cannot sign or verify in the Standard Webhooks scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The Standard Webhooks key is the part after the prefix, so without it there is no key.
    #[error("webhook secret must start with \"whsec_\"")]
    MissingPrefix,
    /// The receivers' libraries decode the standard alphabet; anything else would give them another key.
    #[error("webhook secret is not standard base64 after \"whsec_\"")]
    InvalidBase64,
    /// An empty HMAC key lets anyone forge signatures.
    #[error("webhook secret is empty")]
    EmptySecret,
    /// A delivery signed with no secret could never be verified.
    #[error("at least one webhook secret is needed to sign")]
    NoSecrets,
}

/// Why a receiver must refuse a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The headers cannot be parsed, so there is nothing to check.
    #[error("malformed signature header: {0}")]
    MalformedHeader(&'static str),
    /// Too old is a possible replay; too far ahead is a clock problem or a forged timestamp.
    #[error("webhook timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})")]
    TimestampOutsideTolerance {
        /// The timestamp the delivery claims, in Unix seconds.
        timestamp: i64,
        /// The receiver's clock, in Unix seconds.
        now: i64,
        /// The allowed distance, in seconds.
        tolerance_secs: i64,
    },
    /// Neither the body nor the timestamp may have changed since signing, and the secret must be one we used.
    #[error("no signature matches the secret")]
    NoMatchingSignature,
    /// The receiver's own secret is unusable, which is a configuration error rather than an attack.
    #[error("bad webhook secret: {0}")]
    BadSecret(#[from] SignatureError),
}

/// All the signature headers of one delivery attempt, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `X-Webhook-Signature`, for Stripe-style verifiers.
    pub x_webhook_signature: String,
    /// `webhook-id`: the delivery id, stable across retries so receivers can drop duplicates.
    pub webhook_id: String,
    /// `webhook-timestamp`: whole Unix seconds of this attempt.
    pub webhook_timestamp: String,
    /// `webhook-signature`, for Standard Webhooks verifiers.
    pub webhook_signature: String,
}

/// Turns 32 random bytes into a subscription secret; the caller supplies them so this crate stays deterministic.
pub fn secret_from_bytes(random: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

/// Builds `X-Webhook-Signature` with one `v1=` per secret, so that receivers on either side of a rotation accept it.
pub fn x_webhook_signature(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(
            x_webhook_mac(secret, timestamp, body)
                .finalize()
                .into_bytes(),
        ));
    }
    header
}

/// Builds `webhook-signature` with one `v1,` entry per secret, separated by single spaces (the Python library breaks on anything else).
pub fn standard_signature(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecrets);
    }
    let mut entries = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let key = standard_key(secret)?;
        let tag = standard_mac(&key, msg_id, timestamp, body)
            .finalize()
            .into_bytes();
        entries.push(format!("v1,{}", STANDARD.encode(tag)));
    }
    Ok(entries.join(" "))
}

/// Signs one delivery attempt in both schemes at once, so that they can never disagree on the timestamp.
pub fn sign(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<SignatureHeaders, SignatureError> {
    // The Standard Webhooks secrets are the stricter, so they are checked first.
    let webhook_signature = standard_signature(secrets, msg_id, timestamp, body)?;
    Ok(SignatureHeaders {
        x_webhook_signature: x_webhook_signature(secrets, timestamp, body),
        webhook_id: msg_id.to_owned(),
        webhook_timestamp: timestamp.to_string(),
        webhook_signature,
    })
}

/// Checks `X-Webhook-Signature` as Stripe's verifier would, but also refuses timestamps from the future.
pub fn verify_x_webhook_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(SignatureError::EmptySecret.into());
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((key, value)) = item.split_once('=') else {
            return Err(VerifyError::MalformedHeader("an item is not key=value"));
        };
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    // Two timestamps would let a forger pick the one the verifier reads.
                    return Err(VerifyError::MalformedHeader("more than one t="));
                }
                timestamp = Some(parse_unix_secs(value.trim())?);
            }
            "v1" => candidates.push(value.trim()),
            // Other schemes (v0, future versions) are for other verifiers.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::MalformedHeader("no t="))?;
    check_tolerance(timestamp, now, tolerance_secs)?;

    let mac = x_webhook_mac(secret, timestamp, body);
    let matched = candidates.into_iter().any(|candidate| {
        hex::decode(candidate).is_ok_and(|tag| mac.clone().verify_slice(&tag).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

/// Checks the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) as their libraries do.
pub fn verify_standard(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let key = standard_key(secret)?;
    if msg_id.is_empty() {
        return Err(VerifyError::MalformedHeader("empty webhook-id"));
    }
    let timestamp = parse_unix_secs(timestamp.trim())?;
    if signature_header.trim().is_empty() {
        return Err(VerifyError::MalformedHeader("empty webhook-signature"));
    }
    check_tolerance(timestamp, now, tolerance_secs)?;

    let mac = standard_mac(&key, msg_id, timestamp, body);
    let matched = signature_header
        .split_ascii_whitespace()
        .filter_map(|entry| entry.split_once(','))
        // Other versions (v1a is asymmetric) are for other verifiers.
        .filter(|(version, _)| *version == "v1")
        .any(|(_, value)| {
            SECRET_BASE64
                .decode(value)
                .is_ok_and(|tag| mac.clone().verify_slice(&tag).is_ok())
        });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

fn x_webhook_mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // Stripe's verifiers key the HMAC with the secret string as given, prefix included.
    let mut mac = new_mac(secret.as_bytes());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn standard_mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = new_mac(key);
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC hashes long keys and pads short ones, so no key length is refused.
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

fn standard_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SignatureError::MissingPrefix)?;
    let key = SECRET_BASE64
        .decode(encoded)
        .map_err(|_| SignatureError::InvalidBase64)?;
    if key.is_empty() {
        return Err(SignatureError::EmptySecret);
    }
    Ok(key)
}

fn parse_unix_secs(value: &str) -> Result<i64, VerifyError> {
    // Digits only: `i64::from_str` would also take a sign, which no sender writes.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::MalformedHeader(
            "timestamp is not whole Unix seconds",
        ));
    }
    value
        .parse()
        .map_err(|_| VerifyError::MalformedHeader("timestamp is out of range"))
}

fn check_tolerance(timestamp: i64, now: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    // i128 so that no pair of i64 can overflow the difference.
    let distance = (i128::from(now) - i128::from(timestamp)).abs();
    if distance > i128::from(tolerance_secs.max(0)) {
        return Err(VerifyError::TimestampOutsideTolerance {
            timestamp,
            now,
            tolerance_secs,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently with Python's hmac, hashlib and base64 modules (and
    // the Standard Webhooks one cross-checked with `standardwebhooks.Webhook.sign`).
    const SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const BODY: &[u8] = br#"{"event_id":"evt_01","event":"ping","data":{}}"#;
    const T: i64 = 1_700_000_000;
    const MSG_ID: &str = "dlv_01";
    const X_SIG: &str =
        "t=1700000000,v1=8512c3a137da1ceaf75fe5bd2e9902d687dc8871c35a25f5453ba17b1ce5f592";
    const STD_SIG: &str = "v1,6UGByCqvRMs9n+/G7LA1gVvEE4TYvqZAy/Loxy7blMM=";

    fn random_bytes() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn secret_is_prefixed_padded_standard_base64() {
        assert_eq!(secret_from_bytes(&random_bytes()), SECRET);
        let with_plus_and_slash = secret_from_bytes(&[0xfb; 32]);
        assert!(with_plus_and_slash.contains('+') || with_plus_and_slash.contains('/'));
        assert!(with_plus_and_slash.ends_with('='));
    }

    #[test]
    fn x_webhook_signature_matches_python_vector() {
        assert_eq!(x_webhook_signature(&[SECRET], T, BODY), X_SIG);
    }

    #[test]
    fn standard_signature_matches_python_vector() {
        assert_eq!(
            standard_signature(&[SECRET], MSG_ID, T, BODY).unwrap(),
            STD_SIG
        );
    }

    #[test]
    fn standard_signature_matches_the_published_standard_webhooks_example() {
        // The example of the Standard Webhooks / Svix documentation: an unpadded 24-byte secret.
        let signature = standard_signature(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_give_two_values_in_order() {
        let other = secret_from_bytes(&[7; 32]);
        let x = x_webhook_signature(&[SECRET, &other], T, BODY);
        assert!(x.starts_with(&format!("{X_SIG},v1=")));
        assert_eq!(x.matches(",v1=").count(), 2);
        assert!(!x.contains(' '));
        let std = standard_signature(&[SECRET, &other], MSG_ID, T, BODY).unwrap();
        let entries: Vec<&str> = std.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], STD_SIG);
    }

    #[test]
    fn sign_fills_every_header() {
        let headers = sign(&[SECRET], MSG_ID, T, BODY).unwrap();
        assert_eq!(
            headers,
            SignatureHeaders {
                x_webhook_signature: X_SIG.to_owned(),
                webhook_id: MSG_ID.to_owned(),
                webhook_timestamp: "1700000000".to_owned(),
                webhook_signature: STD_SIG.to_owned(),
            }
        );
    }

    #[test]
    fn bad_secrets_cannot_sign() {
        assert_eq!(sign(&[], MSG_ID, T, BODY), Err(SignatureError::NoSecrets));
        assert_eq!(
            sign(&["AAECAwQF"], MSG_ID, T, BODY),
            Err(SignatureError::MissingPrefix)
        );
        // The URL-safe alphabet would silently become another key in Python's decoder.
        assert_eq!(
            sign(&["whsec_ab-_"], MSG_ID, T, BODY),
            Err(SignatureError::InvalidBase64)
        );
        assert_eq!(
            sign(&["whsec_"], MSG_ID, T, BODY),
            Err(SignatureError::EmptySecret)
        );
        assert_eq!(
            sign(&[SECRET, "whsec_!"], MSG_ID, T, BODY),
            Err(SignatureError::InvalidBase64)
        );
    }

    #[test]
    fn unpadded_secret_is_the_same_key() {
        let unpadded = SECRET.trim_end_matches('=');
        assert_eq!(
            standard_signature(&[unpadded], MSG_ID, T, BODY).unwrap(),
            STD_SIG
        );
    }

    #[test]
    fn verifies_the_vectors() {
        assert_eq!(
            verify_x_webhook_signature(SECRET, X_SIG, BODY, T, 300),
            Ok(())
        );
        assert_eq!(
            verify_standard(SECRET, MSG_ID, "1700000000", STD_SIG, BODY, T, 300),
            Ok(())
        );
    }

    #[test]
    fn tolerance_is_inclusive_and_two_sided() {
        for now in [T - 300, T + 300] {
            assert_eq!(
                verify_x_webhook_signature(SECRET, X_SIG, BODY, now, 300),
                Ok(())
            );
            assert_eq!(
                verify_standard(SECRET, MSG_ID, "1700000000", STD_SIG, BODY, now, 300),
                Ok(())
            );
        }
        for now in [T - 301, T + 301] {
            let expected = Err(VerifyError::TimestampOutsideTolerance {
                timestamp: T,
                now,
                tolerance_secs: 300,
            });
            assert_eq!(
                verify_x_webhook_signature(SECRET, X_SIG, BODY, now, 300),
                expected
            );
            assert_eq!(
                verify_standard(SECRET, MSG_ID, "1700000000", STD_SIG, BODY, now, 300),
                expected
            );
        }
        assert!(matches!(
            verify_x_webhook_signature(SECRET, X_SIG, BODY, i64::MIN, i64::MAX),
            Err(VerifyError::TimestampOutsideTolerance { .. })
        ));
    }

    #[test]
    fn ignores_unknown_schemes_and_accepts_any_matching_v1() {
        let mac = &X_SIG["t=1700000000,v1=".len()..];
        let header = format!(
            "t={T}, v0=abc,v1=zz,v1={},v9={mac},v1={mac}",
            "0".repeat(64)
        );
        assert_eq!(
            verify_x_webhook_signature(SECRET, &header, BODY, T, 300),
            Ok(())
        );

        let header = format!(
            "v1a,AAAA v2,xyz v1,!!! junk v1,{} {STD_SIG}",
            STANDARD.encode([0; 32])
        );
        assert_eq!(
            verify_standard(SECRET, MSG_ID, "1700000000", &header, BODY, T, 300),
            Ok(())
        );
    }

    #[test]
    fn refuses_what_it_should() {
        let other = secret_from_bytes(&[9; 32]);
        assert_eq!(
            verify_x_webhook_signature(&other, X_SIG, BODY, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify_x_webhook_signature(SECRET, X_SIG, b"{}", T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify_x_webhook_signature(SECRET, "t=1700000000,v0=abc", BODY, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify_standard(SECRET, "dlv_02", "1700000000", STD_SIG, BODY, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify_standard(&other, MSG_ID, "1700000000", STD_SIG, BODY, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        // The signed timestamp is part of the message, so a resent signature with a new one fails.
        let moved = X_SIG.replace("1700000000", "1700000001");
        assert_eq!(
            verify_x_webhook_signature(SECRET, &moved, BODY, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify_standard(SECRET, MSG_ID, "1700000001", STD_SIG, BODY, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn malformed_headers_and_secrets_are_named() {
        for header in [
            "",
            "v1=abc",
            "t=,v1=abc",
            "t=-1,v1=abc",
            "t=+1700000000",
            "t=1.5",
            "t=99999999999999999999",
            "t=1,t=1",
            "garbage",
        ] {
            assert!(
                matches!(
                    verify_x_webhook_signature(SECRET, header, BODY, T, 300),
                    Err(VerifyError::MalformedHeader(_))
                ),
                "{header:?}"
            );
        }
        assert!(matches!(
            verify_standard(SECRET, "", "1700000000", STD_SIG, BODY, T, 300),
            Err(VerifyError::MalformedHeader(_))
        ));
        assert!(matches!(
            verify_standard(SECRET, MSG_ID, "soon", STD_SIG, BODY, T, 300),
            Err(VerifyError::MalformedHeader(_))
        ));
        assert!(matches!(
            verify_standard(SECRET, MSG_ID, "1700000000", " ", BODY, T, 300),
            Err(VerifyError::MalformedHeader(_))
        ));
        assert_eq!(
            verify_x_webhook_signature("", X_SIG, BODY, T, 300),
            Err(VerifyError::BadSecret(SignatureError::EmptySecret))
        );
        assert_eq!(
            verify_standard("secret", MSG_ID, "1700000000", STD_SIG, BODY, T, 300),
            Err(VerifyError::BadSecret(SignatureError::MissingPrefix))
        );
    }
}
