//! Certificate-based authentication: the client presents a certificate issued by the mock's CA
//! in the TLS handshake; its topics and environment decide, and `authorization` is ignored.
//! Also curl with `--cert`/`--key` as Apple documents it, and a certificate from another CA
//! refused at the handshake.

use std::time::Duration;

use mock_apns::{AuthKind, ClientCert, ClientCertRequest, Environment, MockApns, Reason};

use crate::support::apns_client::tls_connect_as;
use crate::support::binary::shell;
use crate::support::push::CALL_PAYLOAD;
use crate::support::{
    assert_accepted, assert_rejected, ApnsClient, Push, BUNDLE, DEVICE, VOIP_TOPIC,
};

fn certificate(apns: &MockApns, voip: bool, environment: Option<Environment>) -> ClientCert {
    apns.issue_client_cert(&ClientCertRequest {
        bundle_id: BUNDLE.into(),
        voip,
        environment,
    })
    .expect("the mock issues client certificates")
}

/// A VoIP push as a certificate provider sends it: no provider token.
fn voip_without_token(apns: &MockApns) -> Push {
    Push::voip(apns).without("authorization")
}

#[tokio::test]
async fn a_voip_services_certificate_pushes_without_a_provider_token() {
    let apns = MockApns::start().await;
    let cert = certificate(&apns, true, None);
    let client = ApnsClient::connect_with_cert(&apns, &cert).await;

    let reply = client.send(&voip_without_token(&apns)).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    assert_eq!(record.auth.kind, AuthKind::Certificate);
    let topics: Vec<String> = record.auth.topics.clone().unwrap_or_default();
    assert_eq!(topics, [BUNDLE, VOIP_TOPIC]);
}

/// Apple: APNs ignores `authorization` on certificate connections, even a bad one.
#[tokio::test]
async fn the_authorization_header_is_ignored_on_a_certificate_connection() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect_with_cert(&apns, &certificate(&apns, true, None)).await;

    let reply = client
        .send(&Push::voip(&apns).header("authorization", "bearer not.a.jwt"))
        .await
        .unwrap();

    assert_accepted(&apns, &reply);
}

/// A certificate without the VoIP topic cannot send VoIP pushes.
#[tokio::test]
async fn a_topic_outside_the_certificate_is_topic_disallowed() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect_with_cert(&apns, &certificate(&apns, false, None)).await;

    let reply = client.send(&voip_without_token(&apns)).await.unwrap();

    assert_rejected(&apns, &reply, Reason::TopicDisallowed);
}

#[tokio::test]
async fn a_certificate_for_the_other_environment_is_bad_certificate_environment() {
    let apns = MockApns::start().await;
    let production = certificate(&apns, true, Some(Environment::Production));
    let client = ApnsClient::connect_with_cert(&apns, &production).await;

    let reply = client.send(&voip_without_token(&apns)).await.unwrap();

    assert_rejected(&apns, &reply, Reason::BadCertificateEnvironment);
}

/// Apple: with a certificate whose only topic is the bundle id, `apns-topic` may be left out;
/// with several topics it is required.
#[tokio::test]
async fn apns_topic_may_be_omitted_only_with_a_single_topic_certificate() {
    let apns = MockApns::start().await;
    let single = ApnsClient::connect_with_cert(&apns, &certificate(&apns, false, None)).await;
    let several = ApnsClient::connect_with_cert(&apns, &certificate(&apns, true, None)).await;
    let alert = voip_without_token(&apns)
        .header("apns-push-type", "alert")
        .without("apns-topic");

    let defaulted = single.send(&alert).await.unwrap();
    let ambiguous = several.send(&alert).await.unwrap();

    assert_accepted(&apns, &defaulted);
    assert_rejected(&apns, &ambiguous, Reason::MissingTopic);
}

/// A certificate is trusted from the handshake: no one-stream phase as with tokens.
#[tokio::test]
async fn a_certificate_connection_gets_the_full_stream_limit_at_once() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect_with_cert(&apns, &certificate(&apns, true, None)).await;

    let reply = client.send(&voip_without_token(&apns)).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    assert_eq!(
        record.stream_limit, 1000,
        "the limit in force for the first push"
    );
    assert_eq!(client.stream_limit(), 1000);
}

/// Certificate auth with curl, as Apple documents it: `--cert`/`--key`, no `authorization`.
#[tokio::test]
async fn curl_pushes_with_a_client_certificate() {
    let apns = MockApns::start().await;
    let dir = tempfile::tempdir().unwrap();
    let request = ClientCertRequest {
        bundle_id: "com.example.app".into(),
        voip: true,
        environment: Some(Environment::Development),
    };
    let cert = apns.issue_client_cert(&request).unwrap();
    let (ca, crt, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("c.pem"),
        dir.path().join("k.pem"),
    );
    std::fs::write(&ca, apns.ca_cert_pem()).unwrap();
    std::fs::write(&crt, &cert.cert_pem).unwrap();
    std::fs::write(&key, &cert.key_pem).unwrap();

    let out = shell(&format!(
        "curl -s --http2 --cacert {ca} --cert {crt} --key {key} \
         -H 'apns-push-type: voip' -H 'apns-topic: {VOIP_TOPIC}' -d '{CALL_PAYLOAD}' \
         -o /dev/null -w '%{{http_code}}' {uri}/3/device/{DEVICE}",
        ca = ca.display(),
        crt = crt.display(),
        key = key.display(),
        uri = apns.uri(),
    ))
    .await;

    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{out:?}");
    let record = &apns.received_notifications()[0];
    assert_eq!(record.auth.kind, mock_apns::AuthKind::Certificate);
    assert_eq!(
        record.auth.topics.as_deref(),
        Some(
            &[
                "com.example.app".to_string(),
                "com.example.app.voip".to_string()
            ][..]
        )
    );
}

/// A client certificate the mock's CA did not issue fails the TLS handshake.
#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_at_the_handshake() {
    let apns = MockApns::start().await;
    let stranger = MockApns::start().await;
    let request = ClientCertRequest {
        bundle_id: "com.example.app".into(),
        voip: false,
        environment: None,
    };
    let foreign = stranger.issue_client_cert(&request).unwrap();

    let attempt = async {
        let tls = tls_connect_as(
            apns.address(),
            apns.ca_cert_pem(),
            "localhost",
            &[b"h2"],
            Some(&foreign),
        )
        .await?;
        // TLS 1.3 reports a refused client certificate on the first read.
        let (mut sender, conn) = h2::client::handshake(tls).await?;
        tokio::spawn(conn);
        let request = http::Request::post(format!("{}/3/device/{DEVICE}", apns.uri())).body(())?;
        let (response, _) = sender.send_request(request, true)?;
        anyhow::Ok(response.await?)
    };
    let result = tokio::time::timeout(Duration::from_secs(10), attempt)
        .await
        .unwrap();

    result.expect_err("a foreign client certificate must not get through");
    assert!(apns.received_notifications().is_empty());
    assert!(apns.connections().is_empty(), "no connection got past TLS");
}
