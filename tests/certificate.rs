//! Certificate-based authentication: the client presents a certificate issued by the mock's CA
//! in the TLS handshake; its topics and environment decide, and `authorization` is ignored.

use mock_apns::{AuthKind, ClientCert, ClientCertRequest, Environment, MockApns, Reason};

use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push, BUNDLE, VOIP_TOPIC};

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
