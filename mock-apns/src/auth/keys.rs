//! Provider-token keys: the registered verifying keys, and signing keys for minting JWTs.
//!
//! A provider signs its JWT with an Apple `.p8` key (ES256, P-256). The mock only needs the
//! public half to verify; it keeps the private half of its own development key so the banner,
//! the library and tests can mint tokens that work out of the box.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer};

use crate::error::Error;
use crate::Environment;

/// The DER prefix of a P-256 `SubjectPublicKeyInfo`; the 65-byte uncompressed point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A registered provider key: what the mock verifies tokens against.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    /// The 10-character key id (`kid` in the JWT header).
    pub key_id: Arc<str>,
    /// The 10-character team id the key belongs to (`iss` in the JWT claims).
    pub team_id: Arc<str>,
    /// The only environment the key may be used in (`None`: both, like a legacy team key).
    pub environment: Option<Environment>,
    /// Uncompressed P-256 point (65 bytes, `04 || X || Y`).
    public_key: Arc<[u8]>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Restricts the key to one environment: using it against the other gets 403
    /// `BadEnvironmentKeyIdInToken` (Apple lets team keys be limited to one environment).
    pub fn restricted_to(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// A key from its uncompressed P-256 point.
    pub fn from_public_point(key_id: &str, team_id: &str, point: &[u8]) -> Result<Self, Error> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(Error::key(key_id, "not an uncompressed P-256 public key"));
        }
        Ok(Self {
            key_id: key_id.into(),
            team_id: team_id.into(),
            environment: None,
            public_key: point.into(),
        })
    }

    /// A key from PEM text holding either a PKCS#8 private key (an Apple `.p8`) or a
    /// `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn from_pem(key_id: &str, team_id: &str, pem: &[u8]) -> Result<Self, Error> {
        if let Ok(pkcs8) = PrivatePkcs8KeyDer::from_pem_slice(pem) {
            let pair = SigningKey::pair_from_pkcs8(key_id, pkcs8.secret_pkcs8_der())?;
            return Self::from_public_point(key_id, team_id, pair.public_key().as_ref());
        }
        if let Ok(spki) = SubjectPublicKeyInfoDer::from_pem_slice(pem) {
            let der = spki.as_ref();
            if der.len() == P256_SPKI_PREFIX.len() + 65 && der.starts_with(&P256_SPKI_PREFIX) {
                return Self::from_public_point(key_id, team_id, &der[P256_SPKI_PREFIX.len()..]);
            }
            return Err(Error::key(
                key_id,
                "the PUBLIC KEY is not a P-256 (ES256) key",
            ));
        }
        Err(Error::key(
            key_id,
            "expected a PEM \"PRIVATE KEY\" (.p8) or \"PUBLIC KEY\"",
        ))
    }

    /// The uncompressed P-256 point.
    pub fn public_point(&self) -> &[u8] {
        &self.public_key
    }
}

/// A private ES256 key that can mint provider tokens, like a provider's `.p8`.
#[derive(Clone)]
pub struct SigningKey {
    key_id: Arc<str>,
    team_id: Arc<str>,
    pkcs8: Arc<[u8]>,
    pair: Arc<EcdsaKeyPair>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key with a random key id and the given team id.
    pub fn generate(team_id: &str) -> Result<Self, Error> {
        let key_id = random_id();
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| Error::key(&key_id, "could not generate a P-256 key"))?;
        Self::from_pkcs8_der(&key_id, team_id, doc.as_ref())
    }

    /// A key from a PKCS#8 DER document.
    pub fn from_pkcs8_der(key_id: &str, team_id: &str, der: &[u8]) -> Result<Self, Error> {
        let pair = Self::pair_from_pkcs8(key_id, der)?;
        Ok(Self {
            key_id: key_id.into(),
            team_id: team_id.into(),
            pkcs8: der.into(),
            pair: Arc::new(pair),
        })
    }

    /// A key from `.p8` PEM text.
    pub fn from_pem(key_id: &str, team_id: &str, pem: &[u8]) -> Result<Self, Error> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem)
            .map_err(|_| Error::key(key_id, "expected a PEM \"PRIVATE KEY\" (.p8)"))?;
        Self::from_pkcs8_der(key_id, team_id, der.secret_pkcs8_der())
    }

    fn pair_from_pkcs8(key_id: &str, der: &[u8]) -> Result<EcdsaKeyPair, Error> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
            .map_err(|e| Error::key(key_id, format!("not a usable P-256 PKCS#8 key ({e})")))
    }

    /// The key id (`kid`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The team id (`iss`).
    pub fn team_id(&self) -> &str {
        &self.team_id
    }

    /// The key as `.p8` PEM text, as Apple hands it out.
    pub fn to_pem(&self) -> String {
        pem_encode("PRIVATE KEY", &self.pkcs8)
    }

    /// The public half, for registering with the mock.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            key_id: self.key_id.clone(),
            team_id: self.team_id.clone(),
            environment: None,
            public_key: self.pair.public_key().as_ref().into(),
        }
    }

    /// A provider token (`<header>.<claims>.<signature>`, ES256, raw R‖S signature) issued at
    /// `iat` (seconds since the epoch), as a provider builds it.
    pub fn token(&self, iat: u64) -> String {
        let header = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, self.key_id);
        let claims = format!(r#"{{"iss":"{}","iat":{}}}"#, self.team_id, iat);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        // Signing with a valid key and the system RNG only fails if the RNG fails.
        let sig = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map(|s| URL_SAFE_NO_PAD.encode(s.as_ref()))
            .unwrap_or_default();
        format!("{signing_input}.{sig}")
    }

    /// A raw R‖S ES256 signature of `input`, for tests that build tokens of their own form.
    #[cfg(test)]
    pub(crate) fn sign_for_test(&self, input: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), input)
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default()
    }

    /// Writes the key as `AuthKey_<KEYID>.p8` into `dir` (mode 0600) and returns the path.
    pub fn write_p8(&self, dir: &Path) -> Result<std::path::PathBuf, Error> {
        let path = dir.join(format!("AuthKey_{}.p8", self.key_id));
        crate::state_dir::write_private(&path, self.to_pem().as_bytes())?;
        Ok(path)
    }
}

/// PEM-encodes DER with the given label, 64 characters a line.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A 10-character upper-case alphanumeric id, the shape of Apple's key and team ids.
pub fn random_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uuid::Uuid::new_v4().as_bytes()[..10]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The registered keys, by key id. Built before the server starts and read without locks.
#[derive(Debug, Clone, Default)]
pub struct KeyStore {
    by_id: HashMap<Arc<str>, VerifyingKey>,
}

impl KeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a key; a later key with the same id replaces the earlier one.
    pub fn insert(&mut self, key: VerifyingKey) {
        self.by_id.insert(key.key_id.clone(), key);
    }

    /// The key with this id.
    pub fn get(&self, key_id: &str) -> Option<&VerifyingKey> {
        self.by_id.get(key_id)
    }

    /// Every registered key.
    pub fn iter(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.by_id.values()
    }
}

/// A `--token-key` argument, `KEY_ID:TEAM_ID:PATH` or `KEY_ID:TEAM_ID:ENVIRONMENT:PATH`
/// (ENVIRONMENT `development` or `production` limits the key to it), parsed and loaded.
pub fn parse_token_key_arg(arg: &str) -> Result<VerifyingKey, Error> {
    const USAGE: &str = "expected KEY_ID:TEAM_ID:PATH or KEY_ID:TEAM_ID:ENVIRONMENT:PATH";
    let mut parts = arg.splitn(3, ':');
    let (Some(key_id), Some(team_id), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::key(arg, USAGE));
    };
    let (environment, path) = match rest.split_once(':') {
        Some((env, path)) if env.parse::<Environment>().is_ok() => (env.parse().ok(), path),
        _ => (None, rest),
    };
    if key_id.is_empty() || team_id.is_empty() || path.is_empty() {
        return Err(Error::key(arg, USAGE));
    }
    let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let key = VerifyingKey::from_pem(key_id, team_id, &pem)?;
    Ok(match environment {
        Some(env) => key.restricted_to(env),
        None => key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_p8_round_trips_through_pem_and_yields_the_same_public_key() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let pem = key.to_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = VerifyingKey::from_pem(key.key_id(), "TEAM123456", pem.as_bytes()).unwrap();
        assert_eq!(again, key.verifying_key());
        assert_eq!(key.key_id().len(), 10);
    }

    #[test]
    fn a_public_key_pem_is_accepted() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(key.verifying_key().public_point());
        let pem = pem_encode("PUBLIC KEY", &spki);
        let parsed = VerifyingKey::from_pem("K", "T", pem.as_bytes()).unwrap();
        assert_eq!(parsed.public_point(), key.verifying_key().public_point());
    }

    #[test]
    fn garbage_is_refused_with_the_expected_format() {
        let err = VerifyingKey::from_pem("K", "T", b"hello").unwrap_err();
        assert!(err.to_string().contains("PRIVATE KEY"), "{err}");
        let err = parse_token_key_arg("ABC").unwrap_err();
        assert!(err.to_string().contains("KEY_ID:TEAM_ID:PATH"), "{err}");
    }

    #[test]
    fn a_token_key_argument_may_name_an_environment() {
        let key = SigningKey::generate("TEAM123456").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = key.write_p8(dir.path()).unwrap();
        let plain = parse_token_key_arg(&format!("K1:T1:{}", path.display())).unwrap();
        assert_eq!(plain.environment, None);
        let prod = parse_token_key_arg(&format!("K1:T1:production:{}", path.display())).unwrap();
        assert_eq!(prod.environment, Some(Environment::Production));
        assert_eq!(prod.public_point(), key.verifying_key().public_point());
    }
}
