//! One client connection: plain-text and HTTP/1.1 detection, the TLS handshake (inside the
//! connection's task, so a slow client never blocks `accept`), then HTTP/2 until the client
//! leaves or the server shuts down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::rewind::Rewind;
use crate::service::{self, ConnectionCtx};
use crate::state::Shared;

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// A TLS handshake record starts with this content type.
const TLS_HANDSHAKE: u8 = 0x16;
/// A client that has not finished the TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    shutdown: watch::Receiver<bool>,
) {
    let id = shared.next_connection_id();
    let _ = tcp.set_nodelay(true);
    let mut first = [0u8; 1];
    match tcp.peek(&mut first).await {
        Ok(1) if first[0] != TLS_HANDSHAKE => return answer_in_words(tcp, 400, NOT_TLS).await,
        Ok(1) => {}
        _ => return,
    }
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return tracing::info!(%peer, "TLS handshake failed: {e}"),
        Err(_) => return tracing::info!(%peer, "TLS handshake timed out"),
    };
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let mut io = Rewind::new(Bytes::new(), tls);
    match alpn.as_deref() {
        Some(b"h2") => {}
        Some(_) => return answer_in_words(io, 505, NOT_HTTP2).await,
        // No ALPN: HTTP/2 with prior knowledge (Pushy, aioapns) or an HTTP/1.1 client.
        None => match sniff_preface(io).await {
            Some(rewound) => io = rewound,
            None => return,
        },
    }
    tracing::debug!(connection = id, %peer, alpn = ?alpn.as_deref().map(String::from_utf8_lossy), "serving HTTP/2");
    serve_h2(
        io,
        Arc::new(ConnectionCtx {
            id,
            ..ConnectionCtx::default()
        }),
        shared,
        shutdown,
    )
    .await;
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
    conn: Arc<ConnectionCtx>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    // APNs's observed SETTINGS (pushy#356, pushy#878): 4096 / 1000 / 65535 / 16384 / 8000.
    let mut builder = h2::server::Builder::new();
    builder
        .header_table_size(4096)
        .max_concurrent_streams(shared.config.max_concurrent_streams)
        .initial_window_size(65_535)
        .max_frame_size(16_384)
        .max_header_list_size(8000);
    let mut h2 = match builder.handshake::<_, Bytes>(io).await {
        Ok(h2) => h2,
        Err(e) => return tracing::info!(connection = conn.id, "HTTP/2 handshake failed: {e}"),
    };
    let mut closing = *shutdown.borrow();
    if closing {
        h2.graceful_shutdown();
    }
    loop {
        tokio::select! {
            next = h2.accept() => match next {
                Some(Ok((request, respond))) => {
                    let (conn, shared) = (conn.clone(), shared.clone());
                    tokio::spawn(async move {
                        service::handle(request, respond, &conn, &shared).await;
                    });
                }
                Some(Err(e)) => {
                    tracing::debug!(connection = conn.id, "connection error: {e}");
                    break;
                }
                None => break,
            },
            changed = shutdown.changed(), if !closing => {
                closing = true;
                if changed.is_ok() {
                    // GOAWAY; streams already accepted are still answered.
                    h2.graceful_shutdown();
                }
            }
        }
    }
    tracing::debug!(connection = conn.id, "connection closed");
}
