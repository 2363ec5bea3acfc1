//! The transport: TLS with the mock's CA (the server certificate names Apple's hosts), HTTP/2
//! with ALPN `h2` and with prior knowledge, clients that speak something else (answered in
//! words, never a hang), and the forms of `:authority` and `host`.

use mock_apns::MockApns;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::apns_client::tls_connect;
use crate::support::push::CALL_PAYLOAD;
use crate::support::raw_h2::{device_path, raw_connection, voip_headers};
use crate::support::{assert_accepted, Alpn, ApnsClient, Push, DEVICE, PATIENCE, VOIP_TOPIC};

/// Reads until the peer closes (or errors), within [`PATIENCE`]: a hang fails the test.
async fn read_all(mut io: impl AsyncRead + Unpin) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = io.read(&mut buf).await {
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed within {PATIENCE:?}"
    );
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn http2_with_alpn_h2_works() {
    let apns = MockApns::start().await;
    // `connect_with` checks that the server picked `h2`.
    let client = ApnsClient::connect_with(apns.address(), apns.ca_cert_pem(), Alpn::H2)
        .await
        .unwrap();

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert_accepted(&apns, &reply);
}

/// Pushy and aioapns connect without ALPN and start HTTP/2 right away (prior knowledge).
#[tokio::test]
async fn http2_with_prior_knowledge_and_no_alpn_works() {
    let apns = MockApns::start().await;
    // `connect_with` checks that no protocol was negotiated.
    let client = ApnsClient::connect_with(apns.address(), apns.ca_cert_pem(), Alpn::None)
        .await
        .unwrap();

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let second = client.send(&Push::voip(&apns)).await.unwrap();

    let first = assert_accepted(&apns, &first);
    let second = assert_accepted(&apns, &second);
    assert_eq!(
        first.connection_id, second.connection_id,
        "one connection, two streams"
    );
}

/// The server certificate names localhost and Apple's hosts, and verification is real: a name
/// it does not cover fails the handshake.
#[tokio::test]
async fn the_certificate_verifies_for_apples_host_names_only() {
    let apns = MockApns::start().await;

    for name in [
        "localhost",
        "api.push.apple.com",
        "api.sandbox.push.apple.com",
        "api.development.push.apple.com",
    ] {
        let tls = tls_connect(apns.address(), apns.ca_cert_pem(), name, &[b"h2"]).await;
        assert!(tls.is_ok(), "{name}: {:?}", tls.err());
    }
    let wrong = tls_connect(apns.address(), apns.ca_cert_pem(), "example.com", &[b"h2"]).await;
    let error = format!(
        "{:#}",
        wrong.expect_err("example.com is not in the certificate")
    );
    assert!(error.contains("certificate"), "{error}");
}

#[tokio::test]
async fn an_http1_request_over_tls_gets_a_readable_505() {
    let apns = MockApns::start().await;
    let request = format!(
        "POST /3/device/{DEVICE} HTTP/1.1\r\nHost: localhost\r\napns-topic: {VOIP_TOPIC}\r\n\
         content-length: {}\r\n\r\n{CALL_PAYLOAD}",
        CALL_PAYLOAD.len()
    );

    // With ALPN http/1.1 (curl --http1.1), and with no ALPN at all (an old client).
    for alpn in [&[b"http/1.1".as_slice()][..], &[]] {
        let mut tls = tls_connect(apns.address(), apns.ca_cert_pem(), "localhost", alpn)
            .await
            .unwrap();
        tls.write_all(request.as_bytes()).await.unwrap();

        let answer = read_all(tls).await;

        assert!(answer.starts_with("HTTP/1.1 505 "), "{answer:?}");
        assert!(
            answer.contains("HTTP/2"),
            "the answer says what to use: {answer:?}"
        );
    }
    assert!(
        apns.received_notifications().is_empty(),
        "nothing reached APNs validation"
    );
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_a_readable_400() {
    let apns = MockApns::start().await;
    let mut tcp = TcpStream::connect(apns.address()).await.unwrap();
    tcp.write_all(b"GET /3/device/abcd HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();

    let answer = read_all(tcp).await;

    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer:?}");
    assert!(
        answer.contains("https://"),
        "the answer says what to use: {answer:?}"
    );
    assert!(apns.received_notifications().is_empty());
}

/// Providers send `:authority` as the host with or without the port, and sometimes as a fully
/// qualified name with its trailing dot; none of that decides a push's fate, and the record
/// shows each as sent.
#[tokio::test]
async fn every_form_of_authority_is_accepted() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let port = apns.address().port();

    for authority in [
        format!("localhost:{port}"),
        "localhost".to_owned(),
        "api.sandbox.push.apple.com".to_owned(),
        "api.sandbox.push.apple.com:443".to_owned(),
        "api.sandbox.push.apple.com.".to_owned(),
        "api.sandbox.push.apple.com.:443".to_owned(),
    ] {
        let reply = client
            .send(&Push::voip(&apns).authority(&authority))
            .await
            .unwrap();

        let record = assert_accepted(&apns, &reply);
        assert_eq!(record.authority.as_deref(), Some(authority.as_str()));
        assert_eq!(record.sni.as_deref(), Some("localhost"));
    }
}

/// Apple's documented request head: `:method`, `:scheme`, `:path` and a plain `host` header,
/// no `:authority`; the record's `authority` is the `host` header then.
#[tokio::test]
async fn a_plain_host_header_instead_of_authority_is_accepted() {
    let apns = MockApns::start().await;
    let mut raw = raw_connection(&apns).await;

    let reply = raw
        .post(
            1,
            &device_path(),
            &voip_headers(&apns),
            CALL_PAYLOAD.as_bytes(),
        )
        .await
        .unwrap();

    assert_eq!(reply.status, Some(200), "{reply:?}");
    assert!(reply.headers_ended_stream, "a 200 has no body: {reply:?}");
    let records = apns.received_notifications();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].status, records[0].reason), (200, None));
    assert_eq!(records[0].device_token.as_deref(), Some(DEVICE));
    assert_eq!(
        records[0].authority.as_deref(),
        Some("api.sandbox.push.apple.com")
    );
}
