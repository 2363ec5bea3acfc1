//! One client connection: plain-text and HTTP/1.1 detection, the TLS handshake (inside the
//! connection's task, so a slow client never blocks `accept`), then HTTP/2 until the client
//! leaves or the server shuts down. Everything before HTTP/2 runs (first byte, TLS, preface)
//! shares one deadline, and a shutdown drops a connection still in it.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::server::connection_state::{Connection, Control, GoAway, Hello};
use crate::server::rewind::Rewind;
use crate::server::stream;
use crate::shared::Shared;
use crate::shared::StopSignal;
use crate::{CertIdentity, ErrorCode, Reason};

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// A TLS handshake record starts with this content type.
const TLS_HANDSHAKE: u8 = 0x16;

const NOT_TLS: &str = "This is mock-apns's APNs port: like APNs it speaks HTTP/2 over TLS. \
Use https:// and trust the mock's CA (see the start-up banner).\n";
const NOT_HTTP2: &str = "mock-apns speaks HTTP/2 only, like APNs. \
Use an HTTP/2 client, for example: curl --http2 ...\n";

/// Serves one accepted TCP connection to the end.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: StopSignal,
) {
    let id = shared.next_connection_id();
    let _ = tcp.set_nodelay(true);
    if let Some((rule, cap)) = shared.faults.max_connections() {
        if shared.connections.open_count() >= cap {
            shared.faults.refused_connection(&rule);
            shared.metrics.fault_applied(&rule.spec.action);
            let why = format!(
                "refused: {cap} connections open (fault rule {})",
                rule.label()
            );
            let hello = Hello {
                peer,
                alpn: None,
                sni: None,
                cert: None,
                connect_target: shared.tunnels.target_of(peer),
            };
            let (conn, _) = Connection::new(id, hello, 0, shared.clock.now_ms());
            conn.closed(shared.clock.now_ms(), why);
            conn.mark_ended();
            shared.connections.insert(conn);
            return; // Dropping the socket refuses the connection.
        }
    }
    // One deadline for every step before HTTP/2 runs: a silent or slow peer must not hold a
    // socket (and a shutdown) for ever. Real time, not the mock's clock: moving that clock
    // forward must not drop handshakes in progress.
    let timeout = shared.config.handshake_timeout;
    let deadline = Instant::now() + timeout;
    let set_up = tokio::select! {
        set_up = tokio::time::timeout_at(deadline, set_up(tcp, peer, acceptor)) => set_up,
        () = shutdown.stopped() => return,
    };
    let SetUp {
        io,
        alpn,
        sni,
        cert,
    } = match set_up {
        Ok(Some(set_up)) => set_up,
        Ok(None) => return,
        Err(_) => return tracing::info!(%peer, "closed: no TLS and HTTP/2 within {timeout:?}"),
    };
    let alpn = alpn.map(|p| String::from_utf8_lossy(&p).into_owned());
    tracing::debug!(connection = id, %peer, ?alpn, cert = cert.is_some(), "serving HTTP/2");
    // APNs allows one stream until a push with a valid provider token is accepted; a
    // certificate is trusted from the handshake.
    let limit = if cert.is_some() {
        shared.config.max_concurrent_streams
    } else {
        1
    };
    let hello = Hello {
        peer,
        alpn,
        sni,
        cert,
        connect_target: shared.tunnels.target_of(peer),
    };
    let (conn, control) = Connection::new(id, hello, limit, shared.clock.now_ms());
    shared.connections.insert(conn.clone());
    serve_h2(io, conn, control, shared, shutdown, deadline).await;
}

/// A connection through TLS whose first bytes say it speaks HTTP/2 (or may: ALPN `h2`).
struct SetUp {
    io: Rewind<TlsStream<TcpStream>>,
    alpn: Option<Vec<u8>>,
    /// The TLS server name the client asked for, as received.
    sni: Option<Arc<str>>,
    cert: Option<CertIdentity>,
}

/// Waits for the first byte, runs the TLS handshake and checks for HTTP/2; answers a plain
/// HTTP or HTTP/1.1 client in words. `None`: the connection is done.
async fn set_up(tcp: TcpStream, peer: SocketAddr, acceptor: TlsAcceptor) -> Option<SetUp> {
    let mut first = [0u8; 1];
    match tcp.peek(&mut first).await {
        Ok(1) if first[0] != TLS_HANDSHAKE => {
            answer_in_words(tcp, 400, NOT_TLS).await;
            return None;
        }
        Ok(1) => {}
        _ => return None,
    }
    let tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(e) => {
            tracing::info!(%peer, "TLS handshake failed: {e}");
            return None;
        }
    };
    let session = tls.get_ref().1;
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
    let sni: Option<Arc<str>> = session.server_name().map(Arc::from);
    let cert = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|der| CertIdentity::from_der(der));
    let mut io = Rewind::new(Bytes::new(), tls);
    match alpn.as_deref() {
        Some(b"h2") => {}
        Some(_) => {
            answer_in_words(io, 505, NOT_HTTP2).await;
            return None;
        }
        // No ALPN: HTTP/2 with prior knowledge (Pushy, aioapns) or an HTTP/1.1 client.
        None => io = sniff_preface(io).await?,
    }
    Some(SetUp {
        io,
        alpn,
        sni,
        cert,
    })
}

/// Reads until the bytes either match the HTTP/2 preface or cannot; answers the latter in words.
async fn sniff_preface<S>(mut io: Rewind<S>) -> Option<Rewind<S>>
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let mut seen = Vec::with_capacity(PREFACE.len());
    let mut buf = [0u8; 64];
    while seen.len() < PREFACE.len() {
        let n = io.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
        let common = seen.len().min(PREFACE.len());
        if seen[..common] != PREFACE[..common] {
            answer_in_words(io, 505, NOT_HTTP2).await;
            return None;
        }
    }
    let inner = io.into_inner();
    Some(Rewind::new(Bytes::from(seen), inner))
}

/// A short HTTP/1.1 answer in plain words, then close: better than a hang or a TLS alert.
async fn answer_in_words<S: AsyncWrite + Unpin>(mut io: S, status: u16, text: &str) {
    let phrase = if status == 505 {
        "HTTP Version Not Supported"
    } else {
        "Bad Request"
    };
    let response = format!(
        "HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = io.write_all(response.as_bytes()).await;
    let _ = io.shutdown().await;
}

async fn serve_h2<S>(
    io: S,
    conn: Arc<Connection>,
    mut control: mpsc::UnboundedReceiver<Control>,
    shared: Arc<Shared>,
    mut shutdown: StopSignal,
    deadline: Instant,
) where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let _ended = Ended {
        conn: &conn,
        shared: &shared,
    };
    // APNs's observed SETTINGS (pushy#356, pushy#878): 4096 / 1 then 1000 / 65535 / 16384 / 8000.
    let mut builder = h2::server::Builder::new();
    builder
        .header_table_size(4096)
        .max_concurrent_streams(conn.stream_limit())
        .initial_window_size(65_535)
        .max_frame_size(16_384)
        .max_header_list_size(8000);
    // The client's preface is still under the set-up deadline.
    let handshake = tokio::select! {
        handshake = tokio::time::timeout_at(deadline, builder.handshake::<_, Bytes>(io)) => {
            match handshake {
                Ok(Ok(h2)) => Ok(h2),
                Ok(Err(e)) => Err(format!("HTTP/2 handshake failed: {e}")),
                Err(_) => Err(format!(
                    "no HTTP/2 preface within {:?} of connecting",
                    shared.config.handshake_timeout
                )),
            }
        }
        () = shutdown.stopped() => Err("server shut down before the HTTP/2 preface".into()),
    };
    let mut h2 = match handshake {
        Ok(h2) => h2,
        Err(why) => {
            conn.closed(shared.clock.now_ms(), why.as_str());
            return tracing::info!(connection = conn.id, "{why}");
        }
    };
    // A header list over the limit reaches the mock, which answers it with an apns-id and a
    // JSON reason like any refusal (h2 alone would send a bare 431).
    h2.deliver_oversize_requests();
    let _driving = shared.connections.driving();
    // See `stream::handle`: the runtime's worker threads, and whether to answer here.
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let mut closing = false;
    let idle_timeout = shared.config.idle_timeout;
    // One future for the whole connection: making a new one for every stream (it registers
    // with the stop flag each time) showed up in profiles under load.
    let stopped = shutdown.stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            next = h2.accept() => match next {
                Some(Ok(first)) => {
                    // Every request the last read brought, before h2 writes again: answered
                    // here, their answers then leave in one write (see `accept_received`).
                    let here = shared.connections.driving_count() >= workers;
                    let mut next = Some(first);
                    while let Some((request, respond)) = next {
                        // One reading of the clock: the stream's start is its push's arrival.
                        let now = shared.clock.now_ms();
                        conn.stream_started(now);
                        if let Some(task) =
                            stream::handle(request, respond, &conn, &shared, now, here)
                        {
                            tokio::spawn(task);
                        }
                        next = h2.accept_received();
                    }
                }
                Some(Err(e)) => {
                    conn.closed(shared.clock.now_ms(), format!("connection error: {e}"));
                    tracing::debug!(connection = conn.id, "connection error: {e}");
                    break;
                }
                None => break,
            },
            Some(order) = control.recv() => match order {
                Control::StreamLimit(limit) => h2.set_max_concurrent_streams(limit),
                Control::GoAway(goaway, why, queued) => {
                    closing = true;
                    let last = send_go_away(&mut h2, &conn, &shared, goaway, &why);
                    if let Some(queued) = queued {
                        let _ = queued.send(last);
                    }
                }
                Control::Close(why) => {
                    conn.closed(shared.clock.now_ms(), format!("closed without GOAWAY: {why}"));
                    break;
                }
            },
            () = conn.idle_for(&shared.clock, idle_timeout.unwrap_or_default()),
                if idle_timeout.is_some() && !closing =>
            {
                closing = true;
                let goaway = GoAway { reason: Reason::IdleTimeout, ..GoAway::shutdown() };
                send_go_away(&mut h2, &conn, &shared, goaway, "idle timeout");
            }
            () = &mut stopped, if !closing => {
                closing = true;
                send_go_away(
                    &mut h2,
                    &conn,
                    &shared,
                    GoAway::shutdown(),
                    "server shutting down",
                );
            }
        }
    }
    drop(h2);
    conn.closed(shared.clock.now_ms(), "client closed");
    tracing::debug!(connection = conn.id, "connection closed");
}

/// Marks the connection as ended however its task stops: also when the task is dropped at
/// `--shutdown-timeout`, so the connection list does not show it open for ever and streams
/// held until it closes are let go.
struct Ended<'a> {
    conn: &'a Connection,
    shared: &'a Shared,
}

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        // Only when nothing said how it ended: the task was cancelled at shutdown.
        self.conn.closed(
            self.shared.clock.now_ms(),
            "server shut down with streams unanswered (--shutdown-timeout)",
        );
        self.conn.mark_ended();
    }
}

/// Sends GOAWAY with Apple's JSON reason as debug data. Streams up to the last-stream-id are
/// still answered; the connection closes once they are.
fn send_go_away<S>(
    h2: &mut h2::server::Connection<S, Bytes>,
    conn: &Connection,
    shared: &Shared,
    goaway: GoAway,
    why: &str,
) -> u32
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let last = goaway
        .last_stream_id
        .unwrap_or_else(|| h2.last_processed_stream_id());
    conn.going_away(last);
    let debug = Bytes::from(goaway.reason.body(None));
    h2.go_away_with_debug_data(last, goaway.error_code.to_h2(), debug, false);
    shared.metrics.goaway(goaway.reason);
    conn.closed(
        shared.clock.now_ms(),
        format!(
            "GOAWAY {} ({}), last stream {last}: {why}",
            goaway.reason, goaway.error_code
        ),
    );
    last
}

impl GoAway {
    /// What APNs sends when it shuts down: NO_ERROR with `{"reason":"Shutdown"}`
    /// (observed, Fatal1ty/aioapns#63).
    pub(crate) fn shutdown() -> Self {
        GoAway {
            reason: Reason::Shutdown,
            error_code: ErrorCode::NoError,
            last_stream_id: None,
        }
    }
}
