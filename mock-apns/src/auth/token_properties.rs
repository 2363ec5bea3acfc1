//! Property tests of the provider-token parser: any `authorization` value and any would-be JWT
//! gets a token or an `InvalidProviderToken`/`MissingProviderToken` rejection with a detail,
//! never a panic; a rejection never quotes the signature or a lone credential; `iat` in any
//! JSON form parses or is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;

use crate::auth::keys::{KeyStore, SigningKey};
use crate::auth::provider_token::{bearer, check_age, parse_iat, verify, ProviderToken};
use crate::Reason;

/// One key for every case: generating a key per case was most of these tests' time.
fn key() -> &'static SigningKey {
    static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate("TEAM123456").expect("a key"))
}

fn keys() -> KeyStore {
    let mut keys = KeyStore::new();
    keys.insert(key().verifying_key());
    keys
}

/// base64url of arbitrary JSON-ish text, or arbitrary text.
fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_=-]{0,40}",
        "[ -~]{0,40}",
        proptest::collection::vec(any::<u8>(), 0..60).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        "\\{\"(alg|kid|iss|iat)\":(\"[A-Za-z0-9]{0,12}\"|[0-9.e+-]{1,25}|null|\\[\\]),\"(alg|kid|iss|iat)\":(\"ES256\"|[0-9]{1,20})\\}"
            .prop_map(|json| URL_SAFE_NO_PAD.encode(json)),
    ]
}

proptest! {
    #[test]
    fn any_authorization_value_is_a_token_or_a_rejection_that_hides_it(
        words in proptest::collection::vec(
            prop_oneof![
                "(?i:bearer|basic|token)",
                "[A-Za-z0-9_.-]{1,40}",
                "[ -~]{0,12}",
            ],
            0..5,
        ),
        separators in proptest::collection::vec("[ \t:]{0,3}", 5),
    ) {
        let value: String = words
            .iter()
            .zip(&separators)
            .map(|(word, sep)| format!("{word}{sep}"))
            .collect();
        match bearer(Some(&value)) {
            Ok(token) => {
                prop_assert!(!token.is_empty());
                prop_assert!(value.contains(token));
                prop_assert!(value.trim_start().to_ascii_lowercase().starts_with("bearer"));
            }
            Err(rejection) => {
                prop_assert!(matches!(
                    rejection.reason,
                    Reason::InvalidProviderToken | Reason::MissingProviderToken
                ));
                prop_assert!(!rejection.detail.is_empty());
                // Every run of 12 or more token characters in the value stays out of the detail.
                for word in value.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))) {
                    if word.len() >= 12 {
                        prop_assert!(!rejection.detail.contains(word), "{:?} quoted in {}", word, rejection.detail);
                    }
                }
            }
        }
    }

    #[test]
    fn any_would_be_jwt_verifies_or_is_invalid_without_its_signature(
        header in part(),
        claims in part(),
        signature in "[A-Za-z0-9_-]{12,90}",
        extra in proptest::option::of(part()),
    ) {
        let keys = keys();
        let mut token = format!("{header}.{claims}.{signature}");
        if let Some(extra) = extra {
            token = format!("{token}.{extra}");
        }
        let Err(rejection) = verify(&token, &keys) else {
            return Err(TestCaseError::fail("a forged token verified"));
        };
        prop_assert_eq!(rejection.reason, Reason::InvalidProviderToken);
        prop_assert!(!rejection.detail.is_empty());
        prop_assert!(!rejection.detail.contains(&signature), "{}", rejection.detail);
    }

    #[test]
    fn a_signed_token_with_any_claims_never_panics_and_ages_saturate(
        iat in prop_oneof![any::<u64>().prop_map(|n| n.to_string()), "[0-9.e+-]{1,30}", Just("\"soon\"".to_owned())],
        now in any::<u64>(),
        offset in any::<u64>(),
    ) {
        let (key, keys) = (key(), keys());
        // Re-sign nothing: a forged claims part fails the signature, a parsed iat is checked
        // for age on its own.
        let claims = format!(r#"{{"iss":"TEAM123456","iat":{iat}}}"#);
        let parsed = serde_json::from_str::<serde_json::Value>(&claims)
            .ok()
            .and_then(|c| c.get("iat").and_then(parse_iat));
        if let Some(iat) = parsed {
            let token = ProviderToken {
                key_id: key.key_id().into(),
                team_id: "TEAM123456".into(),
                iat,
                environment: None,
                fingerprint: "f".into(),
                clock_offset_secs: offset,
                form: crate::auth::token_encoding::TokenForm::JWS,
            };
            if let Err(rejection) = check_age(&token, now) {
                prop_assert!(matches!(
                    rejection.reason,
                    Reason::ExpiredProviderToken | Reason::InvalidProviderToken
                ));
            }
        }
        let genuine = key.token(0);
        let forged = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.key_id())),
            URL_SAFE_NO_PAD.encode(&claims),
            genuine.rsplit('.').next().unwrap_or_default()
        );
        // With `iat` 0 the claims can be the very ones `token(0)` signed: then it is no forgery.
        if forged != genuine {
            prop_assert!(verify(&forged, &keys).is_err());
        }
    }
}
