//! Properties that every receiver relies on, over arbitrary bodies, ids, secrets and headers.

use hirewire_signature::{
    DEFAULT_TOLERANCE_SECS, VerifyError, secret_from_bytes, sign, verify_standard,
    verify_x_webhook_signature,
};
use proptest::prelude::*;

const TOL: i64 = DEFAULT_TOLERANCE_SECS;

fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(|bytes| secret_from_bytes(&bytes)),
        // Secrets of other lengths, as another Standard Webhooks sender might issue.
        prop::collection::vec(any::<u8>(), 1..80).prop_map(|bytes| {
            use base64::Engine as _;
            format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        }),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..600)
}

fn msg_id() -> impl Strategy<Value = String> {
    prop_oneof!["dlv_[0-9A-Za-z]{1,30}", "\\PC{1,40}"]
}

fn timestamp() -> impl Strategy<Value = i64> {
    0..=4_102_444_800_i64
}

/// Both checks of one delivery, as a receiver that knows `secret` runs them at `now`.
fn verify_both(
    secret: &str,
    headers: &hirewire_signature::SignatureHeaders,
    body: &[u8],
    now: i64,
) -> (Result<(), VerifyError>, Result<(), VerifyError>) {
    (
        verify_x_webhook_signature(secret, &headers.x_webhook_signature, body, now, TOL),
        verify_standard(
            secret,
            &headers.webhook_id,
            &headers.webhook_timestamp,
            &headers.webhook_signature,
            body,
            now,
            TOL,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sign_then_verify_round_trips(
        secret in secret(), id in msg_id(), t in timestamp(), body in body(), skew in -TOL..=TOL,
    ) {
        let headers = sign(&[&secret], &id, t, &body).unwrap();
        prop_assert_eq!(verify_both(&secret, &headers, &body, t + skew), (Ok(()), Ok(())));
    }

    #[test]
    fn any_single_byte_change_of_the_body_is_rejected(
        secret in secret(), id in msg_id(), t in timestamp(),
        body in prop::collection::vec(any::<u8>(), 1..600), index in any::<prop::sample::Index>(),
        flip in 1..=255_u8,
    ) {
        let headers = sign(&[&secret], &id, t, &body).unwrap();
        let mut tampered = body.clone();
        tampered[index.index(body.len())] ^= flip;
        let no = Err(VerifyError::NoMatchingSignature);
        prop_assert_eq!(verify_both(&secret, &headers, &tampered, t), (no.clone(), no));
    }

    #[test]
    fn a_different_secret_is_rejected(
        signer in secret(), receiver in secret(), id in msg_id(), t in timestamp(), body in body(),
    ) {
        prop_assume!(signer != receiver);
        let headers = sign(&[&signer], &id, t, &body).unwrap();
        let no = Err(VerifyError::NoMatchingSignature);
        prop_assert_eq!(verify_both(&receiver, &headers, &body, t), (no.clone(), no));
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_rejected(
        secret in secret(), id in msg_id(), t in timestamp(), body in body(),
        beyond in 1..=10_000_000_i64, future in any::<bool>(),
    ) {
        let headers = sign(&[&secret], &id, t, &body).unwrap();
        // `future` means the delivery claims a time ahead of the receiver's clock.
        let now = if future { t - TOL - beyond } else { t + TOL + beyond };
        let (x, standard) = verify_both(&secret, &headers, &body, now);
        prop_assert!(matches!(x, Err(VerifyError::TimestampOutsideTolerance { .. })), "{x:?}");
        prop_assert!(
            matches!(standard, Err(VerifyError::TimestampOutsideTolerance { .. })),
            "{standard:?}"
        );
    }

    #[test]
    fn with_two_secrets_either_verifies(
        old in secret(), new in secret(), id in msg_id(), t in timestamp(), body in body(),
    ) {
        let headers = sign(&[&new, &old], &id, t, &body).unwrap();
        prop_assert_eq!(verify_both(&old, &headers, &body, t), (Ok(()), Ok(())));
        prop_assert_eq!(verify_both(&new, &headers, &body, t), (Ok(()), Ok(())));
    }
}

/// Header-like text: mostly well-formed pieces, so the parsers get past their first checks.
fn header_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(t=[0-9+-]{0,21}|v1=[0-9a-fA-F]{0,66}|v[0-9a]{0,2}[,=][A-Za-z0-9+/=]{0,46}|[ ,=\\t]|\\PC{0,3}){0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn verifiers_never_panic(
        secret in prop_oneof![secret(), any::<String>(), "whsec_[A-Za-z0-9+/=_-]{0,50}"],
        id in any::<String>(),
        timestamp_header in prop_oneof![any::<String>(), "[0-9 +-]{0,22}"],
        header in header_like(),
        body in body(),
        now in any::<i64>(),
        tolerance in prop_oneof![Just(TOL), any::<i64>()],
    ) {
        let x = verify_x_webhook_signature(&secret, &header, &body, now, tolerance);
        let standard =
            verify_standard(&secret, &id, &timestamp_header, &header, &body, now, tolerance);
        // Random text is never a valid signature of this body.
        prop_assert!(x.is_err());
        prop_assert!(standard.is_err());
    }
}
