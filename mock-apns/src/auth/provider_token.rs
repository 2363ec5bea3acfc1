//! Provider-token (JWT) authentication: parsing, ES256 verification, age, and the cache.
//!
//! Apple, "Establishing a token-based connection to APNs": header `alg` = `ES256` and `kid`,
//! claims `iss` (team id) and `iat` (seconds); a token older than one hour gets 403
//! `ExpiredProviderToken`. Providers are asked to reuse a token for 20–60 minutes, so each
//! connection caches its last verified token: reusing it costs a string comparison, not a
//! signature check.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED};

use crate::apns::rejection::Rejection;
use crate::auth::keys::KeyStore;
use crate::auth::token_encoding::{DecodedToken, Segment, SignatureForm, TokenForm};
use crate::{Environment, Reason};

/// Apple rejects provider tokens issued more than an hour ago.
pub(crate) const MAX_TOKEN_AGE_SECS: u64 = 3600;

/// What a verified provider token says about the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderToken {
    /// `kid`.
    pub(crate) key_id: Arc<str>,
    /// `iss`.
    pub(crate) team_id: Arc<str>,
    /// `iat`, in seconds since the epoch (floats truncated, strings parsed).
    pub(crate) iat: u64,
    /// The environment the key is limited to, if any.
    pub(crate) environment: Option<Environment>,
    /// The first 8 bytes of the token's SHA-256 in hex: tells tokens apart in the record
    /// (same `iat`, new token) without showing it. Computed once, when the token is verified.
    pub(crate) fingerprint: Arc<str>,
    /// How far the mock's clock had been advanced when the mock first saw this token: its age
    /// is its real age then plus any advance since (see [`check_age`]).
    pub(crate) clock_offset_secs: u64,
    /// How it was written: base64 alphabet, padding, signature form.
    pub(crate) form: TokenForm,
}

/// The bearer token carried by an `authorization` header value.
///
/// `bearer <token>`, the scheme in any case (`bearer` and `Bearer` are both seen in the wild).
/// RFC 9110 §11.4 separates scheme and credentials with spaces (`1*SP`); Apple does not
/// document its parser, so a tab there is refused as the RFC reads (`InvalidProviderToken`,
/// the record's `detail` says why). Spaces around the whole value are not part of it.
///
/// No rejection's detail quotes the value: it holds the provider's token, signature included,
/// and details reach the record, the admin API and logs. Only a scheme word followed by
/// credentials is quoted; everything else is described.
pub(crate) fn bearer(header: Option<&str>) -> Result<&str, Rejection> {
    let value = header
        .map(|v| v.trim_matches([' ', '\t']))
        .unwrap_or_default();
    if value.is_empty() {
        let why = match header {
            None => "no authorization header",
            Some(_) => "empty authorization header",
        };
        return Err(Rejection::new(Reason::MissingProviderToken, why));
    }
    let (scheme, rest) = value.split_at(value.find([' ', '\t']).unwrap_or(value.len()));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::new(
            Reason::InvalidProviderToken,
            not_bearer(scheme, !rest.is_empty()),
        ));
    }
    let token = rest.trim_start_matches([' ', '\t']);
    if token.is_empty() {
        return Err(Rejection::new(
            Reason::MissingProviderToken,
            "empty bearer token",
        ));
    }
    if rest[..rest.len() - token.len()].contains('\t') {
        return Err(Rejection::new(
            Reason::InvalidProviderToken,
            format!("a tab separates {scheme:?} from the token; {EXPECTED_AUTHORIZATION} with a space (RFC 9110 §11.4)"),
        ));
    }
    Ok(token)
}

/// The shape every rejection of the `authorization` value names.
const EXPECTED_AUTHORIZATION: &str = "expected \"bearer <provider token>\"";

/// Authorization schemes seen in the wild (IANA's registry and common custom ones): only these
/// are quoted back, as they cannot be a credential.
const KNOWN_SCHEMES: &[&str] = &[
    "Basic",
    "Digest",
    "Negotiate",
    "NTLM",
    "OAuth",
    "Token",
    "JWT",
    "ApiKey",
    "Key",
    "HOBA",
    "Mutual",
    "DPoP",
    "VAPID",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "AWS4-HMAC-SHA256",
];

/// Why `scheme` (the value up to its first space or tab) is not `bearer`, without quoting
/// anything that may be a credential.
fn not_bearer(scheme: &str, credentials_follow: bool) -> String {
    let looks_like_jwt = scheme.split('.').count() == 3;
    if let Some(after) = scheme
        .get(..6)
        .filter(|s| s.eq_ignore_ascii_case("bearer"))
        .and_then(|_| scheme[6..].chars().next())
    {
        let what = if after.is_ascii_punctuation() {
            format!("{after:?}")
        } else {
            "the token itself".to_owned()
        };
        return format!("\"bearer\" is followed by {what}, not a space; {EXPECTED_AUTHORIZATION}");
    }
    if looks_like_jwt {
        return format!(
            "the value starts with what looks like a JWT, not a scheme; {EXPECTED_AUTHORIZATION}"
        );
    }
    let known = KNOWN_SCHEMES.iter().any(|k| k.eq_ignore_ascii_case(scheme));
    if credentials_follow && known {
        return format!(
            "authorization scheme {scheme:?} is not \"bearer\"; {EXPECTED_AUTHORIZATION}"
        );
    }
    // Any other word may be the credential itself: describe it, never quote it.
    format!(
        "the value ({} characters, not shown) has no \"bearer\" scheme; {EXPECTED_AUTHORIZATION}",
        scheme.chars().count()
    )
}

/// Parses and verifies a JWT against the registered keys. Does not check its age.
///
/// Segments may be base64url or standard base64, padded or not, and the signature raw R‖S or
/// DER, as real clients send them (`token_encoding`); the signature is checked over the first
/// two segments exactly as sent.
pub(crate) fn verify(token: &str, keys: &KeyStore) -> Result<ProviderToken, Rejection> {
    let invalid = |why: String| Rejection::new(Reason::InvalidProviderToken, why);
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let dots = token.matches('.').count();
        return Err(invalid(format!(
            "a JWT has three dot-separated parts (header.claims.signature); this one has {}",
            dots + 1
        )));
    };
    let decoded = DecodedToken::decode(h, c, s).map_err(invalid)?;
    let header = json_object(Segment::Header, &decoded.header).map_err(invalid)?;
    let claims = json_object(Segment::Claims, &decoded.claims).map_err(invalid)?;

    match header.get("alg").and_then(|v| v.as_str()) {
        Some("ES256") => {}
        other => {
            return Err(invalid(format!(
                "JWT alg is {other:?}; APNs accepts only ES256"
            )))
        }
    }
    let kid = header
        .get("kid")
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid("JWT header has no \"kid\"".into()))?;
    let key = keys
        .get(kid)
        .ok_or_else(|| invalid(format!("key id {kid:?} is not registered")))?;
    let iss = claims
        .get("iss")
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid("JWT claims have no \"iss\"".into()))?;
    if iss != &*key.team_id {
        return Err(invalid(format!(
            "iss {iss:?} is not the team of key {kid:?} ({})",
            key.team_id
        )));
    }
    let iat = claims
        .get("iat")
        .and_then(parse_iat)
        .ok_or_else(|| invalid("JWT claims have no numeric \"iat\"".into()))?;

    let signing_input = &token[..h.len() + 1 + c.len()];
    let public_key = |alg| UnparsedPublicKey::new(alg, key.public_point());
    let verified = decoded.signature_forms.iter().copied().find(|form| {
        let alg = match form {
            SignatureForm::Raw => &ECDSA_P256_SHA256_FIXED,
            SignatureForm::Der => &ECDSA_P256_SHA256_ASN1,
        };
        public_key(alg)
            .verify(signing_input.as_bytes(), &decoded.signature)
            .is_ok()
    });
    let Some(signature_form) = verified else {
        let form = decoded.form(decoded.signature_forms[0]);
        return Err(invalid(format!(
            "signature does not verify with key {kid:?} (token read as {})",
            form.describe()
        )));
    };
    Ok(ProviderToken {
        key_id: key.key_id.clone(),
        team_id: key.team_id.clone(),
        iat,
        environment: key.environment,
        fingerprint: token_fingerprint(token),
        clock_offset_secs: 0,
        form: decoded.form(signature_form),
    })
}

/// The first 8 bytes of the token's SHA-256, in hex: enough to tell tokens apart in a record.
fn token_fingerprint(token: &str) -> Arc<str> {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into()
}

/// Checks the token's age against `now_secs` (the mock's clock).
///
/// Providers mint `iat` from their real clock, while tests advance the mock's clock. So a
/// token's age is its real age when the mock first saw it plus every clock advance since: an
/// advance of an hour expires the tokens in use, and a token minted afterwards is fresh.
///
/// Older than an hour: `ExpiredProviderToken` (Apple). More than an hour in the future is not
/// documented; Apple says `iat` "must be no more than one hour from the current time", so such
/// a token is treated as invalid rather than expired.
pub(crate) fn check_age(token: &ProviderToken, now_secs: u64) -> Result<(), Rejection> {
    // Saturating: `iat` is whatever the provider signed, up to u64::MAX.
    let issued = token.iat.saturating_add(token.clock_offset_secs);
    if now_secs > issued.saturating_add(MAX_TOKEN_AGE_SECS) {
        return Err(Rejection::new(
            Reason::ExpiredProviderToken,
            format!(
                "token iat {} is {} s old on the mock's clock (limit {MAX_TOKEN_AGE_SECS} s)",
                token.iat,
                now_secs - issued
            ),
        ));
    }
    if issued > now_secs.saturating_add(MAX_TOKEN_AGE_SECS) {
        return Err(Rejection::new(
            Reason::InvalidProviderToken,
            format!(
                "token iat {} is {} s in the future",
                token.iat,
                issued - now_secs
            ),
        ));
    }
    Ok(())
}

/// The tokens whose signature verified, each with the clock offset when it was first seen.
/// A token met again on another connection is not verified again (an ECDSA check costs
/// ~0.3 ms: a client that opens a connection per push paid it per push), and keeps its age
/// after the clock moved. The keys are fixed for the mock's life, so a verdict cannot go
/// stale. Consulted when a connection meets a token (once per token and connection), never on
/// a connection's cached path; bounded, oldest out first.
#[derive(Debug, Default)]
pub(crate) struct VerifiedTokens {
    seen: Mutex<Seen>,
}

/// Token → its verification, and the tokens in insertion order for eviction.
#[derive(Debug, Default)]
struct Seen {
    tokens: HashMap<Box<str>, Arc<ProviderToken>>,
    order: VecDeque<Box<str>>,
}

const VERIFIED_KEPT: usize = 4096;

impl VerifiedTokens {
    /// `token` verified against `keys`: kept from an earlier verification, or verified now
    /// and kept with the clock offset `now_offset_secs`.
    pub(crate) fn verify(
        &self,
        token: &str,
        keys: &KeyStore,
        now_offset_secs: u64,
    ) -> Result<Arc<ProviderToken>, Rejection> {
        if let Some(known) = self.lock().tokens.get(token) {
            return Ok(known.clone());
        }
        // Verified without the lock held: the signature check is the slow part.
        let mut verified = verify(token, keys)?;
        verified.clock_offset_secs = now_offset_secs;
        let verified = Arc::new(verified);
        let mut seen = self.lock();
        let Seen { tokens, order } = &mut *seen;
        if let Some(raced) = tokens.get(token) {
            // Another connection verified it meanwhile: its first sight stands.
            return Ok(raced.clone());
        }
        if order.len() >= VERIFIED_KEPT {
            if let Some(oldest) = order.pop_front() {
                tokens.remove(&oldest);
            }
        }
        tokens.insert(token.into(), verified.clone());
        order.push_back(token.into());
        Ok(verified)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A decoded header or claims segment as a JSON object.
fn json_object(
    segment: Segment,
    bytes: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let name = segment.label();
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("{name}: JSON, but not an object")),
        Err(e) => Err(format!("{name}: decodes from base64 but is not JSON ({e})")),
    }
}

/// `iat` as an integer, a float, or a numeric string: all three are seen from real libraries.
pub(super) fn parse_iat(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        serde_json::Value::String(s) => s
            .trim()
            .parse::<u64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as u64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::engine::GeneralPurpose;
    use base64::Engine as _;

    use crate::auth::connection_auth::{ConnectionAuth, TokenEnv, MIN_TOKEN_CHANGE_SECS};
    use crate::auth::keys::SigningKey;
    use crate::Clock;

    /// A clock, the keys and the verified tokens a connection authenticates against.
    struct Fixture {
        clock: Clock,
        keys: KeyStore,
        verified_tokens: VerifiedTokens,
    }

    impl Fixture {
        fn new(keys: KeyStore) -> Self {
            Self {
                clock: Clock::new(),
                keys,
                verified_tokens: VerifiedTokens::default(),
            }
        }

        fn now(&self) -> u64 {
            self.clock.now_secs()
        }

        fn auth(
            &self,
            auth: &ConnectionAuth,
            token: &str,
            environment: Environment,
        ) -> Result<Arc<ProviderToken>, Rejection> {
            let env = TokenEnv {
                keys: &self.keys,
                environment,
                clock: &self.clock,
                verified_tokens: &self.verified_tokens,
            };
            auth.authenticate(token, &env, &OnceLock::new())
        }
    }

    fn store(key: &SigningKey) -> KeyStore {
        let mut keys = KeyStore::new();
        keys.insert(key.verifying_key());
        keys
    }

    fn craft(header: &str, claims: &str, key: &SigningKey) -> String {
        // Re-sign arbitrary JSON with the key, as a sloppy provider would.
        let good = key.token(0);
        let sig = good.rsplit('.').next().unwrap_or_default();
        format!(
            "{}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn two_tokens_of_the_same_second_have_different_fingerprints() {
        let key = crate::SigningKey::generate("TEAM123456").unwrap();
        let (a, b) = (key.token(1_700_000_000), key.token(1_700_000_000));
        assert_ne!(a, b, "ES256 signatures are randomised");
        assert_eq!(token_fingerprint(&a), token_fingerprint(&a));
        assert_ne!(token_fingerprint(&a), token_fingerprint(&b));
        assert_eq!(token_fingerprint(&a).len(), 16);
    }

    #[test]
    fn a_minted_token_verifies_and_reports_its_identity() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let v = verify(&key.token(1_700_000_000), &store(&key)).unwrap();
        assert_eq!(&*v.team_id, "TEAM123456");
        assert_eq!(&*v.key_id, key.key_id());
        assert_eq!(v.iat, 1_700_000_000);
    }

    #[test]
    fn tampered_claims_fail_the_signature() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let t = craft(
            &format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.key_id()),
            r#"{"iss":"TEAM123456","iat":5}"#,
            &key,
        );
        let err = verify(&t, &store(&key)).unwrap_err();
        assert_eq!(err.reason, Reason::InvalidProviderToken);
        assert!(err.detail.contains("signature"), "{}", err.detail);
    }

    /// ECDSA (r, s) as 64 bytes R‖S → DER, as OpenSSL and Java sign.
    fn raw_to_der(raw: &[u8]) -> Vec<u8> {
        let integer = |bytes: &[u8]| {
            let first = bytes.iter().position(|b| *b != 0).unwrap_or(31);
            let mut value = bytes[first..].to_vec();
            if value[0] & 0x80 != 0 {
                value.insert(0, 0);
            }
            let mut out = vec![0x02, value.len() as u8];
            out.extend(value);
            out
        };
        let (r, s) = (integer(&raw[..32]), integer(&raw[32..]));
        let mut der = vec![0x30, (r.len() + s.len()) as u8];
        der.extend(r);
        der.extend(s);
        der
    }

    /// The key's token re-written: header and claims in `engine`, then signed again over that
    /// text (the signature covers the segments as sent), the signature in `engine` too.
    fn minted_as(key: &SigningKey, engine: &GeneralPurpose, der: bool) -> String {
        let token = key.token(1_700_000_000);
        let mut parts = token.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).unwrap());
        let (header, claims) = (parts.next().unwrap(), parts.next().unwrap());
        let input = format!("{}.{}", engine.encode(header), engine.encode(claims));
        let raw = key.sign_for_test(input.as_bytes());
        let sig = if der { raw_to_der(&raw) } else { raw };
        format!("{input}.{}", engine.encode(sig))
    }

    #[test]
    fn every_base64_form_with_either_signature_verifies_and_is_named() {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
        let key = SigningKey::generate("TEAM123456").unwrap();
        let forms: [(&GeneralPurpose, &str); 4] = [
            (&URL_SAFE_NO_PAD, "base64url, unpadded"),
            (&URL_SAFE, "base64url, padded"),
            (&STANDARD_NO_PAD, "standard base64, unpadded"),
            (&STANDARD, "standard base64, padded"),
        ];
        for (engine, name) in forms {
            for (der, sig) in [(false, "raw R‖S signature"), (true, "DER signature")] {
                // Random signatures: some tokens have no character that tells the alphabets
                // apart or needs padding; a few tries show each form.
                let described: Vec<String> = (0..20)
                    .map(|_| {
                        let token = minted_as(&key, engine, der);
                        let v = verify(&token, &store(&key))
                            .unwrap_or_else(|e| panic!("{name}, {sig}: {} ({token})", e.detail));
                        assert_eq!(v.iat, 1_700_000_000);
                        v.form.describe()
                    })
                    .collect();
                let expected = format!("{name}, {sig}");
                assert!(
                    described.contains(&expected),
                    "{expected} not in {described:?}"
                );
            }
        }
    }

    #[test]
    fn a_token_of_no_accepted_form_is_invalid_and_the_detail_says_why_without_the_signature() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let keys = store(&key);
        let token = key.token(1_700_000_000);
        let (input, sig) = token.rsplit_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let cases = [
            (format!("{input}.{sig}!"), "JWT signature (segment 3): '!' at offset"),
            (format!("{input}.-+{}", &sig[2..]), "JWT signature (segment 3): mixes base64url ('-' at offset 0) and standard base64 ('+' at offset 1)"),
            (format!("{input}.{sig}==="), "JWT signature (segment 3): ends with 3 '='"),
            (format!("{input}.{}", &sig[..sig.len() - 1]), "JWT signature (segment 3): 85 base64 characters"),
            (format!("{input}.{}", URL_SAFE_NO_PAD.encode(&raw[..40])), "JWT signature (segment 3): 40 bytes, neither the 64-byte R‖S"),
            (format!("{input}.{}", URL_SAFE_NO_PAD.encode(&raw_to_der(&raw)[..60])), "JWT signature (segment 3): 60 bytes that start as DER but"),
            (format!("e*{}.{sig}", &input[2..]), "JWT header (segment 1): '*' at offset 1"),
            (input.to_string(), "three dot-separated parts (header.claims.signature); this one has 2"),
            (format!("{}.{sig}", input.replacen('.', ".=", 1)), "JWT claims (segment 2): '=' at offset 0 comes before the end"),
        ];
        for (bad, expected) in cases {
            let err = verify(&bad, &keys).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidProviderToken, "{bad}");
            assert!(
                err.detail.contains(expected),
                "{:?} lacks {expected:?}",
                err.detail
            );
            assert!(
                !err.detail.contains(&sig[4..20]),
                "the signature leaked: {}",
                err.detail
            );
        }
    }

    #[test]
    fn header_and_claims_that_decode_but_are_not_json_objects_are_named() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let t = craft("[1]", r#"{"iss":"TEAM123456","iat":5}"#, &key);
        let err = verify(&t, &store(&key)).unwrap_err();
        assert!(
            err.detail
                .contains("JWT header (segment 1): JSON, but not an object"),
            "{}",
            err.detail
        );
        let t = craft(r#"{"alg":"ES256"}"#, "iat=5", &key);
        let err = verify(&t, &store(&key)).unwrap_err();
        assert!(
            err.detail
                .contains("JWT claims (segment 2): decodes from base64 but is not JSON"),
            "{}",
            err.detail
        );
    }

    #[test]
    fn iat_may_be_an_integer_a_float_or_a_numeric_string() {
        for v in [
            serde_json::json!(17),
            serde_json::json!(17.9),
            serde_json::json!("17"),
        ] {
            assert_eq!(parse_iat(&v), Some(17));
        }
        assert_eq!(parse_iat(&serde_json::json!("soon")), None);
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_empty_is_missing() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some("bearer abc")).unwrap(), "abc");
        assert_eq!(
            bearer(None).unwrap_err().reason,
            Reason::MissingProviderToken
        );
        assert_eq!(
            bearer(Some("bearer ")).unwrap_err().reason,
            Reason::MissingProviderToken
        );
        assert_eq!(
            bearer(Some("Basic abc")).unwrap_err().reason,
            Reason::InvalidProviderToken
        );
    }

    #[test]
    fn a_malformed_authorization_never_quotes_the_token() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let jwt = key.token(1_700_000_000);
        let signature = jwt.rsplit('.').next().unwrap();
        for (value, reason, says) in [
            (
                jwt.clone(),
                Reason::InvalidProviderToken,
                "looks like a JWT",
            ),
            (
                format!("bearer\t{jwt}"),
                Reason::InvalidProviderToken,
                "a tab",
            ),
            (
                format!("bearer \t {jwt}"),
                Reason::InvalidProviderToken,
                "a tab",
            ),
            (format!("bearer:{jwt}"), Reason::InvalidProviderToken, "':'"),
            (
                format!("bearer{jwt}"),
                Reason::InvalidProviderToken,
                "the token itself",
            ),
            (
                format!("Basic {jwt}"),
                Reason::InvalidProviderToken,
                "\"Basic\"",
            ),
            (
                format!("{jwt} bearer"),
                Reason::InvalidProviderToken,
                "looks like a JWT",
            ),
            (
                "hunter2".to_owned(),
                Reason::InvalidProviderToken,
                "7 characters",
            ),
            (
                "hunter2 x".to_owned(),
                Reason::InvalidProviderToken,
                "7 characters",
            ),
            (" \t ".to_owned(), Reason::MissingProviderToken, "empty"),
        ] {
            let err = bearer(Some(&value)).unwrap_err();
            assert_eq!(err.reason, reason, "{value:?}: {}", err.detail);
            assert!(err.detail.contains(says), "{value:?}: {}", err.detail);
            assert!(!err.detail.contains(signature), "{}", err.detail);
            assert!(!err.detail.contains("hunter2"), "{}", err.detail);
        }
        assert_eq!(bearer(Some(&format!("  Bearer   {jwt} "))).unwrap(), jwt);
    }

    #[test]
    fn an_iat_at_the_end_of_time_is_in_the_future_not_a_panic() {
        let t = ProviderToken {
            key_id: "K".into(),
            team_id: "T".into(),
            iat: u64::MAX,
            environment: None,
            fingerprint: "f".into(),
            clock_offset_secs: u64::MAX,
            form: TokenForm::JWS,
        };
        assert_eq!(
            check_age(&t, 1_700_000_000).unwrap_err().reason,
            Reason::InvalidProviderToken
        );
        assert!(check_age(&t, u64::MAX).is_ok());
    }

    #[test]
    fn age_limit_is_one_hour() {
        let t = ProviderToken {
            key_id: "K".into(),
            team_id: "T".into(),
            iat: 10_000,
            environment: None,
            fingerprint: "f".into(),
            clock_offset_secs: 0,
            form: TokenForm::JWS,
        };
        assert!(check_age(&t, 10_000 + 3600).is_ok());
        assert_eq!(
            check_age(&t, 10_000 + 3601).unwrap_err().reason,
            Reason::ExpiredProviderToken
        );
        assert_eq!(
            check_age(&t, 1).unwrap_err().reason,
            Reason::InvalidProviderToken
        );
    }

    #[test]
    fn the_connection_cache_returns_the_same_identity_without_reverifying() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let fx = Fixture::new(store(&key));
        let auth = ConnectionAuth::default();
        let token = key.token(fx.now());
        let first = fx.auth(&auth, &token, Environment::Development).unwrap();
        // An empty store would fail a fresh verification: the cache must answer.
        let empty = Fixture {
            keys: KeyStore::new(),
            ..Fixture::new(KeyStore::new())
        };
        let second = empty.auth(&auth, &token, Environment::Development).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn a_second_token_within_20_minutes_is_too_many_updates() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let fx = Fixture::new(store(&key));
        let auth = ConnectionAuth::default();
        let dev = Environment::Development;
        fx.auth(&auth, &key.token(fx.now()), dev).unwrap();
        let err = fx.auth(&auth, &key.token(fx.now() - 1), dev).unwrap_err();
        assert_eq!(err.reason, Reason::TooManyProviderTokenUpdates);
        fx.clock
            .advance(std::time::Duration::from_secs(MIN_TOKEN_CHANGE_SECS));
        let real_now = fx.now() - MIN_TOKEN_CHANGE_SECS;
        assert!(fx.auth(&auth, &key.token(real_now), dev).is_ok());
    }

    #[test]
    fn advancing_the_clock_an_hour_expires_the_token_in_use_but_not_a_fresh_one() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let fx = Fixture::new(store(&key));
        let dev = Environment::Development;
        let minted_at = fx.now();
        let old = key.token(minted_at);
        fx.auth(&ConnectionAuth::default(), &old, dev).unwrap();
        fx.clock.advance(std::time::Duration::from_secs(3601));
        // Even on a new connection, the old token keeps its age.
        let err = fx.auth(&ConnectionAuth::default(), &old, dev).unwrap_err();
        assert_eq!(err.reason, Reason::ExpiredProviderToken);
        // A provider minting from its real clock after the advance is fresh.
        let fresh = key.token(minted_at + 1);
        assert!(fx.auth(&ConnectionAuth::default(), &fresh, dev).is_ok());
    }

    #[test]
    fn a_token_met_again_on_another_connection_shares_its_first_verification() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let fx = Fixture::new(store(&key));
        let dev = Environment::Development;
        let token = key.token(fx.now());

        let first = fx.auth(&ConnectionAuth::default(), &token, dev).unwrap();
        let second = fx.auth(&ConnectionAuth::default(), &token, dev).unwrap();
        let other = fx
            .auth(&ConnectionAuth::default(), &key.token(fx.now() + 1), dev)
            .unwrap();

        assert!(Arc::ptr_eq(&first, &second), "the kept verification");
        assert!(!Arc::ptr_eq(&first, &other), "another token is verified");
        // A forged token is still refused: only verified tokens are kept.
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(fx.auth(&ConnectionAuth::default(), &forged, dev).is_err());
    }

    #[test]
    fn the_current_token_sent_again_is_settled_without_parsing_and_still_expires() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let fx = Fixture::new(store(&key));
        let env = TokenEnv {
            keys: &fx.keys,
            environment: Environment::Development,
            clock: &fx.clock,
            verified_tokens: &fx.verified_tokens,
        };
        let auth = ConnectionAuth::default();
        let token = key.token(fx.now());
        let header = format!("bearer {token}");
        assert!(auth
            .reused(header.as_bytes(), &env, &OnceLock::new())
            .is_none());
        auth.authenticate(&token, &env, &OnceLock::new()).unwrap();
        let seen = OnceLock::new();
        let settled = auth.reused(header.as_bytes(), &env, &seen);
        assert!(matches!(settled, Some(Ok(()))));
        assert_eq!(seen.get().map(|t| &*t.team_id), Some("TEAM123456"));
        let spaced = format!("bearer  {token} ");
        assert!(
            auth.reused(spaced.as_bytes(), &env, &seen).is_none(),
            "parsed instead"
        );
        fx.clock.advance(std::time::Duration::from_secs(3601));
        let expired = auth.reused(header.as_bytes(), &env, &OnceLock::new());
        assert_eq!(
            expired.and_then(Result::err).map(|e| e.reason),
            Some(Reason::ExpiredProviderToken)
        );
    }

    #[test]
    fn the_first_token_pins_team_and_key() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let same_team = SigningKey::generate("TEAM123456").unwrap();
        let other_team = SigningKey::generate("OTHERTEAM1").unwrap();
        let mut keys = store(&key);
        keys.insert(same_team.verifying_key());
        keys.insert(other_team.verifying_key());
        let fx = Fixture::new(keys);
        let auth = ConnectionAuth::default();
        let dev = Environment::Development;
        fx.auth(&auth, &key.token(fx.now()), dev).unwrap();
        let err = fx
            .auth(&auth, &other_team.token(fx.now()), dev)
            .unwrap_err();
        assert_eq!(err.reason, Reason::InvalidProviderToken);
        let err = fx.auth(&auth, &same_team.token(fx.now()), dev).unwrap_err();
        assert_eq!(err.reason, Reason::UnrelatedKeyIdInToken);
    }

    #[test]
    fn a_key_limited_to_production_is_refused_in_development() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let mut keys = KeyStore::new();
        keys.insert(key.verifying_key().restricted_to(Environment::Production));
        let fx = Fixture::new(keys);
        let err = fx
            .auth(
                &ConnectionAuth::default(),
                &key.token(fx.now()),
                Environment::Development,
            )
            .unwrap_err();
        assert_eq!(err.reason, Reason::BadEnvironmentKeyIdInToken);
    }
}
