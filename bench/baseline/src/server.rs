//! The accept loop and one connection: TLS handshake, HTTP/2 with mock-apns's SETTINGS, and a
//! task per stream that drains the body and answers `200`.

use anyhow::{Context as _, Result};
use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Accepts until an accept fails (a benchmark run should stop loudly, not limp on).
pub(crate) async fn run(listener: TcpListener, acceptor: TlsAcceptor) -> Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await.context("accept")?;
        let acceptor = acceptor.clone();
        // The handshake runs inside the task, as in mock-apns, so accept never waits on a client.
        tokio::spawn(async move {
            if let Err(e) = serve(tcp, acceptor).await {
                eprintln!("apns-baseline: connection from {peer}: {e:#}");
            }
        });
    }
}

async fn serve(tcp: TcpStream, acceptor: TlsAcceptor) -> Result<()> {
    tcp.set_nodelay(true)?;
    let tls = acceptor.accept(tcp).await.context("TLS handshake")?;
    // The same SETTINGS as mock-apns's connection.rs (APNs's observed values), including its
    // start at one concurrent stream.
    let mut h2 = h2::server::Builder::new()
        .header_table_size(4096)
        .max_concurrent_streams(1)
        .initial_window_size(65_535)
        .max_frame_size(16_384)
        .max_header_list_size(8000)
        .handshake::<_, Bytes>(tls)
        .await
        .context("HTTP/2 handshake")?;
    let mut raised = false;
    while let Some(next) = h2.accept().await {
        let (request, respond) = next.context("HTTP/2 connection")?;
        tokio::spawn(answer(request.into_body(), respond));
        if !raised {
            // mock-apns raises the limit to 1000 once a push is accepted; every push is
            // accepted here, so raise it with the first (the patched h2 in vendor/ can).
            h2.set_max_concurrent_streams(1000);
            raised = true;
        }
    }
    Ok(())
}

/// Reads and discards the body (releasing flow control, or big bodies would stall), then
/// answers `200` with a fresh upper-case `apns-id` and no body.
async fn answer(mut body: RecvStream, mut respond: SendResponse<Bytes>) {
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else {
            return; // The client reset the stream: no one to answer.
        };
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let mut id = uuid::Uuid::encode_buffer();
    let id = uuid::Uuid::new_v4().hyphenated().encode_upper(&mut id);
    let Ok(response) = http::Response::builder()
        .status(200)
        .header("apns-id", &*id)
        .body(())
    else {
        return;
    };
    let _ = respond.send_response(response, true);
}
