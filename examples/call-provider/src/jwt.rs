//! Provider tokens (ES256 JWTs), minted rarely and reused.
//!
//! Apple: refresh the token no more than once every 20 minutes (more often on one connection
//! gets 429 `TooManyProviderTokenUpdates`) and no less than once an hour (older gets 403
//! `ExpiredProviderToken`). So one token is shared by every push and re-minted after 50
//! minutes, or at once when APNs says it expired (clock skew, a machine that slept) — but only
//! if nobody re-minted it in the meantime, so a burst of concurrent rejections mints one token.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::PrivatePkcs8KeyDer;
use tokio::sync::Mutex;

/// Tokens are re-minted after this long: inside Apple's 20–60 minute window, with margin.
pub(crate) const REFRESH_AFTER: Duration = Duration::from_secs(50 * 60);

/// The `.p8` signing key with its key id and team id.
pub(crate) struct ProviderKey {
    key_id: String,
    team_id: String,
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for ProviderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKey")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

impl ProviderKey {
    /// Loads an Apple `.p8` file (PEM `PRIVATE KEY`, PKCS#8, P-256).
    pub(crate) fn from_file(path: &Path, key_id: &str, team_id: &str) -> anyhow::Result<Self> {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_pem(&pem, key_id, team_id)
            .with_context(|| format!("loading the provider key {}", path.display()))
    }

    /// A key from `.p8` PEM text.
    pub(crate) fn from_pem(pem: &[u8], key_id: &str, team_id: &str) -> anyhow::Result<Self> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem)
            .map_err(|e| anyhow::anyhow!("not a PEM PRIVATE KEY: {e}"))?;
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.secret_pkcs8_der(),
            &rng,
        )
        .map_err(|e| anyhow::anyhow!("not a P-256 (ES256) PKCS#8 key: {e}"))?;
        Ok(Self {
            key_id: key_id.to_owned(),
            team_id: team_id.to_owned(),
            pair,
            rng,
        })
    }

    /// Mints `header.claims.signature` with header `{"alg":"ES256","kid"}` and claims
    /// `{"iss","iat"}`; the signature is the JWS 64-byte R‖S form.
    pub(crate) fn mint(&self, iat: u64) -> anyhow::Result<String> {
        let header = serde_json::json!({ "alg": "ES256", "kid": self.key_id });
        let claims = serde_json::json!({ "iss": self.team_id, "iat": iat });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| anyhow::anyhow!("signing the provider token failed"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// The token in use and when it was minted (monotonic, so a clock jump cannot keep it alive).
#[derive(Debug, Clone)]
struct Minted {
    token: Arc<str>,
    at: Instant,
}

/// The shared, reused provider token.
#[derive(Debug)]
pub(crate) struct TokenCache {
    key: ProviderKey,
    /// A tokio mutex: concurrent callers wait for the one token being minted rather than mint
    /// their own (several new tokens at once would be `TooManyProviderTokenUpdates`).
    current: Mutex<Option<Minted>>,
}

impl TokenCache {
    pub(crate) fn new(key: ProviderKey) -> Self {
        Self {
            key,
            current: Mutex::new(None),
        }
    }

    /// The token to send: the current one while younger than [`REFRESH_AFTER`], else a new one.
    pub(crate) async fn token(&self) -> anyhow::Result<Arc<str>> {
        let mut current = self.current.lock().await;
        match &*current {
            Some(m) if m.at.elapsed() < REFRESH_AFTER => Ok(m.token.clone()),
            _ => self.mint_into(&mut current).await,
        }
    }

    /// APNs rejected `stale` as expired: mint a new token unless `stale` was already replaced.
    pub(crate) async fn replace(&self, stale: &str) -> anyhow::Result<Arc<str>> {
        let mut current = self.current.lock().await;
        match &*current {
            Some(m) if &*m.token != stale => Ok(m.token.clone()),
            _ => self.mint_into(&mut current).await,
        }
    }

    async fn mint_into(&self, slot: &mut Option<Minted>) -> anyhow::Result<Arc<str>> {
        // `iat` is the system time, as Apple asks; mock-apns ages tokens on its own clock.
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let token: Arc<str> = self.key.mint(iat)?.into();
        tracing::info!(iat, key_id = %self.key.key_id, "minted a provider token");
        *slot = Some(Minted {
            token: token.clone(),
            at: Instant::now(),
        });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{KeyPair as _, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    fn key() -> ProviderKey {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
        );
        ProviderKey::from_pem(pem.as_bytes(), "KEY1234567", "TEAM123456").unwrap()
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_minted_token_has_apples_header_and_claims_and_verifies() {
        let key = key();
        let token = key.mint(1_700_000_000).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg": "ES256", "kid": "KEY1234567"})
        );
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({"iss": "TEAM123456", "iat": 1_700_000_000})
        );
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = key.pair.public_key().as_ref().to_vec();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the signature verifies with the key's public half");
    }

    #[tokio::test]
    async fn the_token_is_reused_and_replaced_once_per_expiry() {
        let cache = TokenCache::new(key());
        let first = cache.token().await.unwrap();
        assert_eq!(cache.token().await.unwrap(), first, "reused, not re-minted");

        let second = cache.replace(&first).await.unwrap();
        assert_ne!(second, first, "an expired token is replaced");
        // A second caller that saw `first` rejected too must get `second`, not a third token.
        assert_eq!(cache.replace(&first).await.unwrap(), second);
        assert_eq!(cache.token().await.unwrap(), second);
    }

    #[test]
    fn a_key_that_is_not_pkcs8_is_refused() {
        let err = ProviderKey::from_pem(b"not a key", "K", "T").unwrap_err();
        assert!(err.to_string().contains("PRIVATE KEY"), "{err}");
    }
}
