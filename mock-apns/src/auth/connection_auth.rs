//! One connection's provider-token rules: the first accepted token pins the team and key, the
//! verified token is cached, and a new token is allowed once per 20 minutes.

use std::sync::{Arc, Mutex, OnceLock};

use crate::apns::rejection::Rejection;
use crate::auth::keys::KeyStore;
use crate::auth::provider_token::{check_age, ProviderToken, VerifiedTokens};
use crate::{Clock, Environment, Reason};

/// What token authentication consults besides the connection's own state.
#[derive(Debug)]
pub(crate) struct TokenEnv<'a> {
    pub(crate) keys: &'a KeyStore,
    pub(crate) environment: Environment,
    pub(crate) clock: &'a Clock,
    pub(crate) verified_tokens: &'a VerifiedTokens,
}

/// Apple: refresh a provider token no more than once every 20 minutes per connection.
pub(crate) const MIN_TOKEN_CHANGE_SECS: u64 = 20 * 60;

/// One connection's provider-token state ([TOKEN] in `docs/apns.md` §5): the first
/// accepted token pins the team and key id; the current token is cached so reuse skips the
/// signature check; a token change is allowed once per 20 minutes.
#[derive(Debug, Default)]
pub(crate) struct ConnectionAuth {
    /// Held only to compare or update a few fields; never across an await.
    state: Mutex<TokenState>,
}

#[derive(Debug, Default)]
struct TokenState {
    /// Shared with the records of the pushes it authenticated.
    current: Option<(Box<str>, Arc<ProviderToken>)>,
    /// When the current token was first accepted (mock clock, seconds).
    changed_at: u64,
}

impl ConnectionAuth {
    /// Authenticates a push's bearer token under this connection's rules. A token whose
    /// signature verifies is put in `seen` even when a later rule rejects it, for the record.
    pub(crate) fn authenticate(
        &self,
        token: &str,
        env: &TokenEnv<'_>,
        seen: &OnceLock<Arc<ProviderToken>>,
    ) -> Result<Arc<ProviderToken>, Rejection> {
        let (keys, environment, now_secs) = (env.keys, env.environment, env.clock.now_secs());
        if let Some(same) = self.current_if(token.as_bytes()) {
            let _ = seen.set(same.clone());
            check_age(&same, now_secs)?;
            return Ok(same);
        }
        let offset = env.clock.offset().as_secs();
        let verified = env.verified_tokens.verify(token, keys, offset)?;
        let _ = seen.set(verified.clone());
        if let Some(only) = verified.environment.filter(|e| *e != environment) {
            return Err(Rejection::new(
                Reason::BadEnvironmentKeyIdInToken,
                format!(
                    "key {:?} is limited to {only}; this is {environment}",
                    verified.key_id
                ),
            ));
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, first)) = &state.current {
            if first.team_id != verified.team_id {
                return Err(Rejection::new(
                    Reason::InvalidProviderToken,
                    format!(
                        "this connection belongs to team {} (its first token); team {} needs its own connection",
                        first.team_id, verified.team_id
                    ),
                ));
            }
            if first.key_id != verified.key_id {
                return Err(Rejection::new(
                    Reason::UnrelatedKeyIdInToken,
                    format!(
                        "this connection uses key {} (its first token); key {} needs its own connection",
                        first.key_id, verified.key_id
                    ),
                ));
            }
        }
        check_age(&verified, now_secs)?;
        if state.current.is_some() && now_secs < state.changed_at + MIN_TOKEN_CHANGE_SECS {
            return Err(Rejection::new(
                Reason::TooManyProviderTokenUpdates,
                format!(
                    "a new token {} s after the previous change (at most one per {} s per connection)",
                    now_secs.saturating_sub(state.changed_at),
                    MIN_TOKEN_CHANGE_SECS
                ),
            ));
        }
        state.current = Some((token.into(), verified.clone()));
        state.changed_at = now_secs;
        Ok(verified)
    }

    /// The common case, settled without parsing: the `authorization` value is `bearer ` (or
    /// `Bearer `) and the connection's current token, sent again. `None`: anything else, for
    /// [`Self::authenticate`]. Parsing checks every byte of a value of 200 or more, on every
    /// push; comparing it with the accepted token settles the same question.
    pub(crate) fn reused(
        &self,
        header: &[u8],
        env: &TokenEnv<'_>,
        seen: &OnceLock<Arc<ProviderToken>>,
    ) -> Option<Result<(), Rejection>> {
        let sent = header
            .strip_prefix(b"bearer ")
            .or_else(|| header.strip_prefix(b"Bearer "))?;
        let same = self.current_if(sent)?;
        let checked = check_age(&same, env.clock.now_secs());
        let _ = seen.set(same);
        Some(checked)
    }

    /// The current token's verification, if `token` is the current token.
    fn current_if(&self, token: &[u8]) -> Option<Arc<ProviderToken>> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .current
            .as_ref()
            .filter(|(t, _)| t.as_bytes() == token)
            .map(|(_, v)| v.clone())
    }

    /// The team and key id this connection is pinned to, once a token was accepted.
    pub(crate) fn pinned(&self) -> Option<(Arc<str>, Arc<str>)> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .current
            .as_ref()
            .map(|(_, t)| (t.team_id.clone(), t.key_id.clone()))
    }
}
