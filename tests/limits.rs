//! What keeps the mock serving whatever its peers do: a deadline on every step before HTTP/2
//! starts (first byte, TLS handshake, preface), a cap on open connections, and a shutdown that
//! ends in bounded time.

use std::time::Duration;

use mock_apns::matchers::any;
use mock_apns::{Action, Mock, MockApns};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::apns_client::tls_connect;
use crate::support::binary::MockProcess;
use crate::support::push::CALL_PAYLOAD;
use crate::support::raw_h2::{device_path, raw_connection, voip_headers, Frame};
use crate::support::{assert_accepted, ApnsClient, Push, PATIENCE};

/// Waits until the server closes `io` (end of file or a reset); false if it is still open
/// after [`PATIENCE`].
async fn closed_by_server(io: &mut (impl tokio::io::AsyncRead + Unpin)) -> bool {
    tokio::time::timeout(PATIENCE, until_closed(io))
        .await
        .is_ok()
}

/// Reads `io` until the server closes it (end of file or a reset), however long that takes.
async fn until_closed(io: &mut (impl tokio::io::AsyncRead + Unpin)) {
    let mut buf = [0u8; 64];
    loop {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// `n` TCP connections to `addr`, sending nothing.
async fn connect_many(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        all.push(TcpStream::connect(addr).await.expect("connecting"));
    }
    all
}

/// A TCP connection that never sends a byte used to hold its socket (and block shutdown)
/// forever; now it is closed after the set-up timeout.
#[tokio::test]
async fn a_silent_tcp_connection_is_closed_after_the_setup_timeout() {
    let apns = MockApns::builder()
        .handshake_timeout(Duration::from_millis(200))
        .start()
        .await;
    let mut silent = TcpStream::connect(apns.address()).await.unwrap();

    assert!(
        closed_by_server(&mut silent).await,
        "a silent connection is still open after {PATIENCE:?}"
    );
}

/// The admin API closes a connection that sends no request head within the same timeout, so
/// idle sockets cannot hold its connection cap for ever.
#[tokio::test]
async fn a_silent_admin_api_connection_is_closed_after_the_setup_timeout() {
    let apns = MockApns::builder()
        .handshake_timeout(Duration::from_millis(200))
        .start()
        .await;
    let admin_addr = apns.admin_uri().trim_start_matches("http://").to_owned();
    let mut silent = TcpStream::connect(admin_addr).await.unwrap();

    assert!(closed_by_server(&mut silent).await);
}

/// The deadline covers the TLS handshake too: a client that sends the first byte of a
/// ClientHello and stops is closed.
#[tokio::test]
async fn a_client_stuck_in_the_tls_handshake_is_closed() {
    let apns = MockApns::builder()
        .handshake_timeout(Duration::from_millis(200))
        .start()
        .await;
    let mut stuck = TcpStream::connect(apns.address()).await.unwrap();
    stuck.write_all(&[0x16, 0x03, 0x01]).await.unwrap();

    assert!(closed_by_server(&mut stuck).await);
}

/// And the HTTP/2 preface: after TLS, with ALPN `h2` or without ALPN (prior knowledge), a
/// client that sends nothing is closed.
#[tokio::test]
async fn a_tls_client_that_never_sends_the_http2_preface_is_closed() {
    let apns = MockApns::builder()
        .handshake_timeout(Duration::from_millis(200))
        .start()
        .await;
    for alpn in [&[b"h2".as_slice()][..], &[]] {
        let mut tls = tls_connect(apns.address(), apns.ca_cert_pem(), "localhost", alpn)
            .await
            .unwrap();

        assert!(closed_by_server(&mut tls).await, "ALPN {alpn:?}");
    }
}

/// Connections beyond `max_connections` are closed at once instead of waiting in the kernel's
/// queue, and the connections within the cap are served. The set-up deadline is an hour, so
/// only the cap can close the connection beyond it within [`PATIENCE`].
#[tokio::test]
async fn connections_beyond_the_cap_are_refused_at_once() {
    let apns = MockApns::builder()
        .max_connections(3)
        .handshake_timeout(Duration::from_secs(3600))
        .start()
        .await;
    let _silent: Vec<TcpStream> = connect_many(apns.address(), 2).await;
    let client = ApnsClient::connect(&apns).await;
    let reply = client.send(&Push::voip(&apns)).await.unwrap();
    assert_accepted(&apns, &reply);

    let mut beyond = TcpStream::connect(apns.address()).await.unwrap();

    assert!(
        closed_by_server(&mut beyond).await,
        "a fourth connection was not refused"
    );
    let again = client.send(&Push::voip(&apns)).await.unwrap();
    assert_accepted(&apns, &again);
}

/// A shutdown is not held up by connections that never started HTTP/2.
#[tokio::test]
async fn shutdown_completes_while_silent_connections_are_open() {
    let apns = MockApns::start().await;
    let _silent = TcpStream::connect(apns.address()).await.unwrap();
    let _no_preface = tls_connect(apns.address(), apns.ca_cert_pem(), "localhost", &[b"h2"])
        .await
        .unwrap();
    // The server has accepted both once a real client is served after them.
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();

    let stopped = tokio::time::timeout(PATIENCE, apns.shutdown()).await;

    assert!(
        stopped.is_ok(),
        "shutdown did not complete within {PATIENCE:?}"
    );
}

/// A stream that would keep the server busy past the shutdown timeout (here a fault rule
/// delays its answer by an hour) does not hold the shutdown up beyond that timeout.
#[tokio::test]
async fn shutdown_completes_within_the_shutdown_timeout_whatever_the_streams_do() {
    let apns = MockApns::builder()
        .shutdown_timeout(Duration::from_millis(300))
        .start()
        .await;
    Mock::given(any())
        .respond_with(Action::delay(Duration::from_secs(3600)))
        .mount(&apns);
    let mut raw = raw_connection(&apns).await;
    raw.send_head(1, &device_path(), &voip_headers(&apns), false)
        .await
        .unwrap();
    raw.send_data(1, CALL_PAYLOAD.as_bytes(), true)
        .await
        .unwrap();
    raw.ping().await.unwrap(); // the server has read stream 1

    let stopped = tokio::time::timeout(PATIENCE, apns.shutdown()).await;

    assert!(
        stopped.is_ok(),
        "shutdown did not complete within {PATIENCE:?}"
    );
    let mut frames = Vec::new();
    loop {
        match raw.next().await.unwrap() {
            Frame::Closed => break,
            frame => frames.push(frame),
        }
    }
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, Frame::Headers { stream: 1, .. })),
        "the delayed stream was answered: {frames:?}"
    );
}

/// Under an open-file limit of 160, a flood of 300 idle connections used to take every file
/// descriptor: `accept` failed with EMFILE, the admin API stopped answering and its accept loop
/// spun a core. Now the cap is lowered to fit the limit (a warning says so), the connections
/// beyond it are refused as they come, and the admin API still answers. The set-up deadline is
/// an hour, so only the cap closes connections here: all but the 64 within it must be closed.
#[tokio::test]
async fn a_flood_of_idle_connections_leaves_the_admin_api_answering() {
    const FLOOD: usize = 300;
    const CAP: usize = 64;
    let state = tempfile::tempdir().unwrap();
    let mut mock = MockProcess::start_with_open_file_limit(
        160,
        state.path(),
        &["--handshake-timeout", "3600"],
    )
    .await;
    mock.stderr_line(&format!("--max-connections lowered to {CAP}"))
        .await;
    let addr = mock.banner.apns_addr();

    // Each connection is held by a task that ends when the server closes it.
    let mut flood = tokio::task::JoinSet::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for _ in 0..FLOOD {
        match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(mut tcp)) => {
                flood.spawn(async move { until_closed(&mut tcp).await });
            }
            Ok(Err(_)) => {}
            Err(_) => break, // the kernel's queue is full: the refusals below will fall short
        }
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut refused = 0;
    while refused < FLOOD - CAP {
        match tokio::time::timeout_at(deadline, flood.join_next()).await {
            Ok(Some(closed)) => {
                closed.expect("a flood connection's task");
                refused += 1;
            }
            Ok(None) | Err(_) => break,
        }
    }
    mock.stderr_line("refused a connection").await;
    let admin = mock.admin();
    let health = admin.health().await;

    assert!(
        refused >= FLOOD - CAP,
        "the server closed {refused} of {FLOOD} idle connections, not all but the {CAP} its cap holds"
    );
    assert_eq!(health.expect("the admin API answers").status, "ok");
}
