//! Configuration from the environment: the `APNS_*` variables the harness (or a deployment)
//! sets. Read once in `main`; nothing else reads the environment.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};

/// Everything the provider needs to start.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Where APNs (or the mock) is.
    pub(crate) apns: Endpoint,
    /// PEM bundle to trust instead of the public web roots (the mock's CA).
    pub(crate) ca_file: Option<PathBuf>,
    /// The `.p8` (PKCS#8, P-256) provider key.
    pub(crate) key_file: PathBuf,
    /// The key's 10-character id (`kid`).
    pub(crate) key_id: String,
    /// The team id (`iss`).
    pub(crate) team_id: String,
    /// The app's bundle id: the alert topic; VoIP pushes go to `<bundle>.voip`.
    pub(crate) topic: String,
    /// Our own HTTP port on 127.0.0.1 (0: any free port).
    pub(crate) port: u16,
    /// How often, and how patiently, a push is retried.
    pub(crate) retry: RetryPolicy,
    /// How long one attempt may wait for APNs' answer before it counts as lost.
    pub(crate) request_timeout: Duration,
    /// A deliberate bug, for proving that snapshot tests catch it.
    pub(crate) bug: Option<Bug>,
}

/// The APNs endpoint, from `APNS_URL` (`https://host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Host name for DNS and TLS server-name checks.
    pub(crate) host: String,
    /// TCP port (443 when the URL has none).
    pub(crate) port: u16,
}

impl Endpoint {
    /// `host:port`, the `:authority` of every request.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Retry rules for 429, 5xx and lost answers: `attempts` tries in all, waiting
/// `base`, `2 × base`, `4 × base`… between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) attempts: u32,
    pub(crate) base: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`, after `attempt` (1-based) failed.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor)
    }
}

/// Deliberate bugs selected by `CALL_PROVIDER_BUG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bug {
    /// `/cancel` sends the missed-call notice as a VoIP push to the VoIP tokens, the mistake
    /// iOS 13 punishes (every VoIP push must report a call).
    CancelAsVoip,
    /// The incoming-call VoIP push carries `apns-expiration` 60 s ahead instead of 0: APNs
    /// stores it for an offline phone, which rings late, for a caller who may have hung up.
    VoipExpiration60,
}

impl Config {
    /// Reads the process environment.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `var`, so tests need not touch the process environment.
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let required = |name: &str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .with_context(|| format!("{name} is not set"))
        };
        let optional = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            optional(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .with_context(|| format!("{name}={v:?} is not a whole number"))
            })
        };

        let apns = parse_endpoint(&required("APNS_URL")?)?;
        let port = number("PORT", 0)?;
        let port = u16::try_from(port).with_context(|| format!("PORT={port} is not a port"))?;
        let attempts = u32::try_from(number("APNS_RETRY_ATTEMPTS", 3)?.max(1)).unwrap_or(3);
        let bug = match optional("CALL_PROVIDER_BUG").as_deref() {
            None => None,
            Some("cancel-as-voip") => Some(Bug::CancelAsVoip),
            Some("voip-expiration-60") => Some(Bug::VoipExpiration60),
            Some(other) => bail!(
                "CALL_PROVIDER_BUG={other:?} is unknown (known: cancel-as-voip, voip-expiration-60)"
            ),
        };
        Ok(Self {
            apns,
            ca_file: optional("APNS_CA_FILE").map(PathBuf::from),
            key_file: required("APNS_KEY_FILE")?.into(),
            key_id: required("APNS_KEY_ID")?,
            team_id: required("APNS_TEAM_ID")?,
            topic: required("APNS_TOPIC")?,
            port,
            retry: RetryPolicy {
                attempts,
                base: Duration::from_millis(number("APNS_RETRY_BASE_MS", 100)?),
            },
            request_timeout: Duration::from_millis(number("APNS_TIMEOUT_MS", 10_000)?.max(1)),
            bug,
        })
    }
}

fn parse_endpoint(url: &str) -> anyhow::Result<Endpoint> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("APNS_URL={url:?} is not a URL"))?;
    if uri.scheme_str() != Some("https") {
        bail!("APNS_URL={url:?} must be https:// (APNs speaks HTTP/2 over TLS only)");
    }
    let host = uri
        .host()
        .with_context(|| format!("APNS_URL={url:?} has no host"))?;
    // `[::1]` arrives bracketed; DNS and TLS want the bare address.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok(Endpoint {
        host,
        port: uri.port_u16().unwrap_or(443),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("APNS_URL", "https://localhost:2197"),
        ("APNS_KEY_FILE", "/keys/AuthKey_ABC.p8"),
        ("APNS_KEY_ID", "ABC1234567"),
        ("APNS_TEAM_ID", "TEAM123456"),
        ("APNS_TOPIC", "com.example.app"),
    ];

    #[test]
    fn defaults_fill_what_the_harness_does_not_set() {
        let c = Config::from_lookup(lookup(BASE)).unwrap();
        assert_eq!(
            c.apns,
            Endpoint {
                host: "localhost".into(),
                port: 2197
            }
        );
        assert_eq!(c.port, 0);
        assert_eq!(c.ca_file, None);
        assert_eq!(c.retry.attempts, 3);
        assert_eq!(c.retry.base, Duration::from_millis(100));
        assert_eq!(c.bug, None);
    }

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let err = Config::from_lookup(lookup(&BASE[..4])).unwrap_err();
        assert!(err.to_string().contains("APNS_TOPIC"), "{err}");
    }

    #[test]
    fn plain_http_and_unknown_bugs_are_refused() {
        let mut vars = BASE.to_vec();
        vars[0] = ("APNS_URL", "http://localhost:2197");
        assert!(Config::from_lookup(lookup(&vars)).is_err());

        let mut vars = BASE.to_vec();
        vars.push(("CALL_PROVIDER_BUG", "everything"));
        let err = Config::from_lookup(lookup(&vars)).unwrap_err();
        assert!(err.to_string().contains("cancel-as-voip"), "{err}");
    }

    #[test]
    fn backoff_doubles_from_the_base() {
        let p = RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(100),
        };
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
    }
}
