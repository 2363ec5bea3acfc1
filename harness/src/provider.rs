//! The provider under test, three ways: an HTTP service already running at a URL, a command
//! the harness starts for each scenario, or a Rust closure.
//!
//! Whatever the adapter, a `call` step becomes a [`ProviderRequest`] and comes back as a
//! [`ProviderResponse`]; the transcript records the answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use mock_apns::admin::{Client, ClientError};
use serde_json::Value;

pub use crate::command::CommandProvider;
use crate::command::ProviderProcess;
use crate::error::Error;
use crate::mock::ApnsEnv;

/// The provider under test.
#[derive(Clone)]
pub enum Provider {
    /// An HTTP provider already running at this base URL (`http://127.0.0.1:8080`). It must
    /// already point at the mock the harness uses (so, with the CLI, `--mock URL`).
    Url(String),
    /// A command the harness starts for each scenario with the mock's `APNS_*` variables.
    Command(CommandProvider),
    /// A Rust closure: for providers that run in the test's own process.
    Fn(FnProvider),
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Url(url) => f.debug_tuple("Url").field(url).finish(),
            Provider::Command(c) => f.debug_tuple("Command").field(c).finish(),
            Provider::Fn(p) => f.debug_tuple("Fn").field(p).finish(),
        }
    }
}

impl Provider {
    /// A provider already running at `base_url`.
    pub fn url(base_url: impl Into<String>) -> Self {
        Provider::Url(base_url.into())
    }

    /// A command run with `sh -c`, ready once it prints a line containing `listening on`
    /// followed by its URL. See [`CommandProvider`] for the other settings.
    pub fn command(command: impl Into<String>) -> Self {
        Provider::Command(CommandProvider::new(command))
    }

    /// A closure provider. `make` is called once per scenario with the mock's settings and
    /// returns the handler for that scenario's calls, so each scenario starts from a fresh
    /// provider state.
    ///
    /// ```no_run
    /// use harness::{Provider, ProviderResponse};
    /// let provider = Provider::from_fn(|env| {
    ///     let apns_url = env.url.clone(); // build the real client from `env` here
    ///     move |request| {
    ///         let _ = (&apns_url, request);
    ///         async move { ProviderResponse::new(201, serde_json::json!({"call_id": "1"})) }
    ///     }
    /// });
    /// # let _ = provider;
    /// ```
    pub fn from_fn<M, H, F>(make: M) -> Self
    where
        M: Fn(&ApnsEnv) -> H + Send + Sync + 'static,
        H: Fn(ProviderRequest) -> F + Send + Sync + 'static,
        F: Future<Output = ProviderResponse> + Send + 'static,
    {
        Provider::Fn(FnProvider {
            make: Arc::new(move |env: &ApnsEnv| {
                let handler = make(env);
                let boxed: Handler = Arc::new(move |req| Box::pin(handler(req)));
                boxed
            }),
        })
    }

    /// Starts (or connects to) the provider for one scenario.
    pub(crate) async fn start(&self, env: &ApnsEnv) -> Result<RunningProvider, Error> {
        Ok(match self {
            Provider::Url(url) => RunningProvider::Http {
                base: url.clone(),
                process: None,
            },
            Provider::Command(c) => {
                let process = ProviderProcess::start(c, env).await?;
                RunningProvider::Http {
                    base: process.url().to_owned(),
                    process: Some(Box::new(process)),
                }
            }
            Provider::Fn(f) => RunningProvider::Fn((f.make)(env)),
        })
    }
}

impl From<CommandProvider> for Provider {
    fn from(c: CommandProvider) -> Self {
        Provider::Command(c)
    }
}

type Handler = Arc<
    dyn Fn(ProviderRequest) -> Pin<Box<dyn Future<Output = ProviderResponse> + Send>> + Send + Sync,
>;

/// A closure provider (see [`Provider::from_fn`]).
#[derive(Clone)]
pub struct FnProvider {
    make: Arc<dyn Fn(&ApnsEnv) -> Handler + Send + Sync>,
}

impl std::fmt::Debug for FnProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnProvider(..)")
    }
}

/// A `call` step as a closure provider receives it.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    /// `POST`, ….
    pub method: String,
    /// `/calls/42/cancel`.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

/// What the provider answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderResponse {
    /// HTTP status.
    pub status: u16,
    /// The body: JSON when it parsed, else a string (`null` when empty).
    pub body: Value,
}

impl ProviderResponse {
    /// An answer.
    pub fn new(status: u16, body: Value) -> Self {
        Self { status, body }
    }
}

/// A provider serving one scenario.
pub(crate) enum RunningProvider {
    Http {
        base: String,
        process: Option<Box<ProviderProcess>>,
    },
    Fn(Handler),
}

impl RunningProvider {
    pub(crate) async fn call(
        &self,
        request: ProviderRequest,
        timeout: Duration,
    ) -> Result<ProviderResponse, Error> {
        match self {
            RunningProvider::Http { base, .. } => http_call(base, request, timeout).await,
            RunningProvider::Fn(handler) => tokio::time::timeout(timeout, handler(request))
                .await
                .map_err(|_| {
                    Error::Provider(format!("the closure provider took over {timeout:?}"))
                }),
        }
    }

    /// The provider's address, to keep its port out of the transcript.
    pub(crate) fn base_url(&self) -> Option<&str> {
        match self {
            RunningProvider::Http { base, .. } => Some(base),
            RunningProvider::Fn(_) => None,
        }
    }

    /// Stops a command provider; answers its output.
    pub(crate) async fn stop(self) -> String {
        match self {
            RunningProvider::Http {
                process: Some(p), ..
            } => p.stop().await,
            _ => String::new(),
        }
    }
}

/// A call to an HTTP provider at `base` (`http://host:port`, maybe with a path the call's
/// path goes under), through the plain HTTP/1.1 JSON client mock-apns has for its admin API.
/// Errors say the method and the provider's URL, as the provider's own log would.
async fn http_call(
    base: &str,
    request: ProviderRequest,
    timeout: Duration,
) -> Result<ProviderResponse, Error> {
    let url = format!("{}{}", base.trim_end_matches('/'), request.path);
    let failed = |message: String| Error::Provider(format!("{} {url}: {message}", request.method));
    let client = match Client::new(base) {
        Ok(client) => client.with_timeout(timeout),
        Err(_) => {
            return Err(Error::Provider(format!(
                "{base:?}: only http://host:port URLs are supported (providers run on loopback)"
            )))
        }
    };
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| failed("not an HTTP method".into()))?;
    // `Client` sends to its authority; a base URL's own path stays in front of the call's.
    let prefix = base
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or_default()
        .trim_end_matches('/');
    let path = format!("{prefix}{}", request.path);
    let reply = client
        .send(method, &path, request.body)
        .await
        .map_err(|e| match e {
            ClientError::Transport { message, .. } => failed(message),
            ClientError::Timeout { timeout, .. } => failed(format!("no answer within {timeout:?}")),
            other => failed(other.to_string()),
        })?;
    Ok(ProviderResponse::new(reply.status, reply.json_or_text()))
}
