//! Every connection the mock has seen: who it is, what it sent, its stream limit, how it ended,
//! and a channel to tell its task to change SETTINGS or go away.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::auth::connection_auth::ConnectionAuth;
use crate::record::compact::Origin;
use crate::{CertIdentity, Clock, ErrorCode, Reason};

/// Closed connections kept for the connection list, beyond which the oldest are forgotten.
const KEEP_CLOSED: usize = 1000;

/// A GOAWAY to send: Apple's JSON reason in the debug data, an HTTP/2 error code, and which
/// streams the last-stream-id covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoAway {
    /// Goes into the debug data as `{"reason":"…"}`.
    pub reason: Reason,
    /// The frame's error code (default `NO_ERROR`, as APNs sends with `Shutdown`).
    #[serde(default)]
    pub error_code: ErrorCode,
    /// The last-stream-id; default: the highest stream the client opened, so every stream
    /// already sent is still answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stream_id: Option<u32>,
}

/// Orders for a connection's task.
#[derive(Debug)]
pub(crate) enum Control {
    /// Advertise a new `SETTINGS_MAX_CONCURRENT_STREAMS`.
    StreamLimit(u32),
    /// Send GOAWAY; streams up to its last-stream-id are still answered. The string says why;
    /// the sender, if any, learns the last-stream-id once the frame is queued.
    GoAway(GoAway, String, Option<oneshot::Sender<u32>>),
    /// Close the TCP connection at once, without GOAWAY. The string says why.
    Close(String),
}

/// One connection's shared state.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) id: u64,
    pub(crate) peer: SocketAddr,
    pub(crate) alpn: Option<String>,
    pub(crate) opened_at: u64,
    /// The client certificate's identity, on certificate-authenticated connections (shared
    /// with the records of its pushes).
    pub(crate) cert: Option<Arc<CertIdentity>>,
    /// Provider-token state (team and key pinned by the first token, last change).
    pub(crate) auth: ConnectionAuth,
    /// Where the client meant to go, so a user can see that redirection worked: the TLS
    /// server name and the CONNECT front door's target, known before the first request.
    sni: Option<Arc<str>>,
    connect_target: Option<Arc<str>>,
    /// The origin of its first request (with its `:authority`, or `host`), shared by the
    /// records of those that repeat it.
    origin: OnceLock<Arc<Origin>>,
    stream_limit: AtomicU32,
    /// The lowest last-stream-id of any GOAWAY sent (`u32::MAX`: none). Streams above it are
    /// not processed (RFC 9113 §6.8): the client was told they were not, and may retry them.
    goaway_last: AtomicU32,
    accepted: AtomicU64,
    rejected: AtomicU64,
    /// Streams being handled now; the idle timer runs only at zero.
    active: AtomicUsize,
    /// When a stream last started or ended (mock clock, ms).
    last_activity_ms: AtomicU64,
    closed: Mutex<Option<(u64, String)>>,
    control: mpsc::UnboundedSender<Control>,
    /// Woken when the last active stream ends, so the idle timer can start.
    stream_ended: Notify,
    /// Flips to true when the connection's task ends (stalled streams wait for it).
    ended: watch::Sender<bool>,
}

/// What `GET /api/v1/connections` shows for one connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Numbered from 1 in accept order.
    pub id: u64,
    /// The client's address.
    pub peer: String,
    /// The negotiated ALPN protocol (`null`: none, HTTP/2 with prior knowledge).
    pub alpn: Option<String>,
    /// `token`, `certificate` or `none` (no push authenticated yet).
    pub auth: serde_json::Value,
    /// Pushes answered 200.
    pub pushes_accepted: u64,
    /// Pushes answered with an error.
    pub pushes_rejected: u64,
    /// The `SETTINGS_MAX_CONCURRENT_STREAMS` now advertised.
    pub stream_limit: u32,
    /// Epoch ms (mock clock).
    pub opened_at: u64,
    /// Epoch ms (mock clock), once closed.
    pub closed_at: Option<u64>,
    /// How it closed: `client closed`, `GOAWAY Shutdown (NO_ERROR)`, ….
    pub closed_how: Option<String>,
    /// The TLS server name (SNI) the client asked for; `null` when it sent none (clients send
    /// none for an IP address).
    #[serde(default)]
    pub sni: Option<String>,
    /// The `:authority` (or, without it, the `host` header) of its first request.
    #[serde(default)]
    pub authority: Option<String>,
    /// For a connection through the CONNECT front door: the `host:port` the client asked the
    /// front door for.
    #[serde(default)]
    pub connect_target: Option<String>,
}

/// What accepting a connection and its TLS handshake told of it.
#[derive(Debug)]
pub(crate) struct Hello {
    pub(crate) peer: SocketAddr,
    pub(crate) alpn: Option<String>,
    /// The TLS server name the client asked for, as received.
    pub(crate) sni: Option<Arc<str>>,
    pub(crate) cert: Option<CertIdentity>,
    /// The `host:port` asked of the CONNECT front door, for a connection through it.
    pub(crate) connect_target: Option<Arc<str>>,
}

impl Connection {
    pub(crate) fn new(
        id: u64,
        hello: Hello,
        stream_limit: u32,
        now_ms: u64,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Control>) {
        let Hello {
            peer,
            alpn,
            sni,
            cert,
            connect_target,
        } = hello;
        let (control, rx) = mpsc::unbounded_channel();
        let conn = Self {
            id,
            peer,
            alpn,
            opened_at: now_ms,
            cert: cert.map(Arc::new),
            auth: ConnectionAuth::default(),
            sni,
            connect_target,
            origin: OnceLock::new(),
            stream_limit: AtomicU32::new(stream_limit),
            goaway_last: AtomicU32::new(u32::MAX),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            last_activity_ms: AtomicU64::new(now_ms),
            closed: Mutex::new(None),
            control,
            stream_ended: Notify::new(),
            ended: watch::Sender::new(false),
        };
        (Arc::new(conn), rx)
    }

    /// Where a request with this `:authority` came from, for its record: one shared value
    /// for every request that repeats the first one's (one reference count per push, not
    /// three strings). `None` when nothing is known.
    pub(crate) fn origin_of(&self, authority: Option<&str>) -> Option<Arc<Origin>> {
        let make = || Origin {
            sni: self.sni.clone(),
            authority: authority.map(Arc::from),
            connect_target: self.connect_target.clone(),
        };
        let first = self.origin.get_or_init(|| Arc::new(make()));
        let origin = if first.authority.as_deref() == authority {
            first.clone()
        } else {
            Arc::new(make())
        };
        (*origin != Origin::default()).then_some(origin)
    }

    /// The stream limit now advertised.
    pub(crate) fn stream_limit(&self) -> u32 {
        self.stream_limit.load(Ordering::Relaxed)
    }

    /// Changes the advertised limit; a no-op when it already has that value.
    pub(crate) fn set_stream_limit(&self, limit: u32) {
        // Read first: nearly every push sets the limit it already has, and a write would take
        // the cache line from the other core for nothing.
        if self.stream_limit.load(Ordering::Relaxed) != limit
            && self.stream_limit.swap(limit, Ordering::Relaxed) != limit
        {
            let _ = self.control.send(Control::StreamLimit(limit));
        }
    }

    /// Notes a GOAWAY's last-stream-id; streams above it are refused from now on.
    pub(crate) fn going_away(&self, last_stream_id: u32) {
        self.goaway_last.fetch_min(last_stream_id, Ordering::SeqCst);
    }

    /// Whether a GOAWAY already told the client this stream would not be processed.
    pub(crate) fn beyond_goaway(&self, stream_id: u32) -> bool {
        stream_id > self.goaway_last.load(Ordering::SeqCst)
    }

    /// Asks the connection's task to send GOAWAY. False if the connection is gone.
    pub(crate) fn go_away(&self, goaway: GoAway, why: impl Into<String>) -> bool {
        if let Some(last) = goaway.last_stream_id {
            self.going_away(last);
        }
        self.control
            .send(Control::GoAway(goaway, why.into(), None))
            .is_ok()
    }

    /// Like [`Self::go_away`], resolving once the frame is queued, with its last-stream-id
    /// (`None` if the connection ended first): the connection list then says how it closed.
    pub(crate) async fn go_away_queued(
        &self,
        goaway: GoAway,
        why: impl Into<String>,
    ) -> Option<u32> {
        let (tx, rx) = oneshot::channel();
        self.control
            .send(Control::GoAway(goaway, why.into(), Some(tx)))
            .ok()?;
        rx.await.ok()
    }

    /// Asks the connection's task to drop the TCP connection without GOAWAY.
    pub(crate) fn close(&self, why: impl Into<String>) {
        let _ = self.control.send(Control::Close(why.into()));
    }

    /// Marks the connection's task as finished.
    pub(crate) fn mark_ended(&self) {
        self.ended.send_replace(true);
    }

    /// Resolves once the connection's task has finished.
    pub(crate) async fn ended(&self) {
        let mut rx = self.ended.subscribe();
        let _ = rx.wait_for(|ended| *ended).await;
    }

    pub(crate) fn count(&self, accepted: bool) {
        let counter = if accepted {
            &self.accepted
        } else {
            &self.rejected
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_started(&self, now_ms: u64) {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.last_activity_ms.store(now_ms, Ordering::Relaxed);
    }

    pub(crate) fn stream_ended(&self, now_ms: u64) {
        self.last_activity_ms.store(now_ms, Ordering::Relaxed);
        // Only becoming idle interests the idle timer; `notify_waiters` takes a lock, which
        // every push paid for when it was called each time.
        if self.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.stream_ended.notify_waiters();
        }
    }

    /// Resolves once the connection has been idle for `timeout` on `clock`.
    pub(crate) async fn idle_for(&self, clock: &Clock, timeout: Duration) {
        let timeout_ms = timeout.as_millis() as u64;
        loop {
            let ended = self.stream_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            match self.idle_since() {
                Some(since) => {
                    tokio::select! {
                        () = clock.sleep_until_ms(since + timeout_ms) => {
                            if self.idle_since() == Some(since) {
                                return;
                            }
                        }
                        () = ended => {}
                    }
                }
                None => ended.await,
            }
        }
    }

    /// When the connection became idle (mock clock, ms), or `None` while streams are active.
    pub(crate) fn idle_since(&self) -> Option<u64> {
        (self.active.load(Ordering::SeqCst) == 0)
            .then(|| self.last_activity_ms.load(Ordering::Relaxed))
    }

    /// Records how the connection ended (the first explanation wins).
    pub(crate) fn closed(&self, now_ms: u64, how: impl Into<String>) {
        let mut closed = self.closed.lock().unwrap_or_else(|p| p.into_inner());
        if closed.is_none() {
            *closed = Some((now_ms, how.into()));
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    pub(crate) fn summary(&self) -> ConnectionSummary {
        let closed = self
            .closed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let auth = match (&self.cert, self.auth.pinned()) {
            (Some(cert), _) => serde_json::json!({
                "kind": "certificate", "subject": cert.subject, "topics": cert.topics,
                "environments": cert.environments,
            }),
            (None, Some((team, key))) => {
                serde_json::json!({ "kind": "token", "team_id": &*team, "key_id": &*key })
            }
            (None, None) => serde_json::json!({ "kind": "none" }),
        };
        ConnectionSummary {
            id: self.id,
            peer: self.peer.to_string(),
            alpn: self.alpn.clone(),
            auth,
            pushes_accepted: self.accepted.load(Ordering::Relaxed),
            pushes_rejected: self.rejected.load(Ordering::Relaxed),
            stream_limit: self.stream_limit(),
            opened_at: self.opened_at,
            closed_at: closed.as_ref().map(|(at, _)| *at),
            closed_how: closed.map(|(_, how)| how),
            sni: self.sni.as_deref().map(str::to_owned),
            authority: self
                .origin
                .get()
                .and_then(|o| o.authority.as_deref())
                .map(str::to_owned),
            connect_target: self.connect_target.as_deref().map(str::to_owned),
        }
    }
}

/// The registry of connections, open and recently closed. Touched when a connection opens or
/// closes and by the admin API, never per push.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    map: Mutex<BTreeMap<u64, Arc<Connection>>>,
    /// Connections whose HTTP/2 is being served (see [`Driving`]).
    driving: AtomicUsize,
}

/// Counts a connection among those whose HTTP/2 is served, for as long as it lives.
#[derive(Debug)]
pub(crate) struct Driving<'a>(&'a Connections);

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        self.0.driving.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connections {
    /// Marks a connection as served over HTTP/2 until the guard is dropped.
    pub(crate) fn driving(&self) -> Driving<'_> {
        self.driving.fetch_add(1, Ordering::Relaxed);
        Driving(self)
    }

    /// How many connections are served over HTTP/2 now (one relaxed load: asked per push).
    pub(crate) fn driving_count(&self) -> usize {
        self.driving.load(Ordering::Relaxed)
    }

    pub(crate) fn insert(&self, conn: Arc<Connection>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(conn.id, conn);
        let closed: Vec<u64> = map
            .values()
            .filter(|c| c.is_closed())
            .map(|c| c.id)
            .collect();
        for id in closed.iter().take(closed.len().saturating_sub(KEEP_CLOSED)) {
            map.remove(id);
        }
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<Connection>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    /// Connections whose task is still running.
    pub(crate) fn open_count(&self) -> usize {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.values().filter(|c| !*c.ended.borrow()).count()
    }

    pub(crate) fn all(&self) -> Vec<Arc<Connection>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}
