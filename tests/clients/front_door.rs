//! The CONNECT front door (`--connect-proxy`): clients that keep Apple's host name and are
//! given only `HTTPS_PROXY` and the CA, exactly the variables `mock-apns env` prints
//! ([`ClientEnv`]), reach the mock; any other destination is refused in words.

use std::net::SocketAddr;

use mock_apns::{AuthKind, ClientEnv, MockApns};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::cases;
use super::node_apn::NodeApn;
use super::support::{Mock, Push};

/// A mock with its front door on a free loopback port.
async fn mock_with_front_door() -> Mock {
    Mock::start_with(MockApns::builder().connect_proxy(SocketAddr::from(([127, 0, 0, 1], 0)))).await
}

/// What `eval "$(mock-apns env --connect-proxy …)"` puts in a shell, for this mock.
fn env_lines(mock: &Mock) -> Vec<(String, String)> {
    let proxy = mock.apns.connect_proxy_address();
    assert!(
        proxy.is_some(),
        "the mock was started without its front door"
    );
    ClientEnv::new(&mock.ca_file, proxy)
        .vars()
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

/// node-apn with neither `address`, `port` nor `ca`: Apple's sandbox host on 443, the proxy
/// option from HTTPS_PROXY, the CA from NODE_EXTRA_CA_CERTS.
const NODE_APN_THROUGH_FRONT_DOOR: NodeApn = NodeApn {
    route: env_lines,
    auth: AuthKind::Token,
};

#[tokio::test]
async fn node_apn_given_only_https_proxy_and_the_ca_reaches_the_mock() {
    let mock = mock_with_front_door().await;
    cases::voip_push_is_accepted(&NODE_APN_THROUGH_FRONT_DOOR, &mock).await;
}

#[tokio::test]
async fn node_apn_through_the_front_door_sees_a_410_with_its_timestamp() {
    let mock = mock_with_front_door().await;
    cases::unregistered_token_is_gone_with_its_timestamp(&NODE_APN_THROUGH_FRONT_DOOR, &mock).await;
}

#[tokio::test]
async fn curl_given_only_https_proxy_and_the_ca_reaches_the_mock_on_every_apns_host() {
    // Arrange
    let mock = mock_with_front_door().await;
    let push = Push::incoming_call();
    let origins = [
        "https://api.sandbox.push.apple.com",
        "https://api.push.apple.com:2197",
        "https://api.development.push.apple.com:443",
    ];
    for (i, origin) in origins.into_iter().enumerate() {
        // Act: no --cacert, no --connect-to; CURL_CA_BUNDLE and HTTPS_PROXY only.
        let sent = super::curl::send_with(
            vec!["--http2".into()],
            env_lines(&mock),
            origin,
            &mock,
            &push,
        )
        .await;

        // Assert
        assert_eq!(
            sent.status, 200,
            "curl through the front door to {origin}: {}",
            sent.raw
        );
        let records = mock
            .apns
            .wait_for(i + 1, std::time::Duration::from_secs(10))
            .await
            .expect("the push was recorded");
        let record = &records[i];
        assert_eq!(record.topic(), Some(push.topic.as_str()), "{origin}");
        // Where curl meant to go, as the record shows it: Apple's host all the way.
        let host = origin.trim_start_matches("https://");
        let (name, port) = host.split_once(':').unwrap_or((host, "443"));
        let target = format!("{name}:{port}");
        assert_eq!(record.connect_target.as_deref(), Some(target.as_str()));
        assert_eq!(record.sni.as_deref(), Some(name), "{origin}");
        // curl leaves the default port out of `:authority`.
        let authority = host.strip_suffix(":443").unwrap_or(host);
        assert_eq!(record.authority.as_deref(), Some(authority), "{origin}");
        assert_eq!(record.payload_json(), push.payload, "{origin}");
        assert!(
            sent.apns_id.as_deref() == Some(&*record.apns_id),
            "{origin}: curl saw apns-id {:?}, the mock answered {}",
            sent.apns_id,
            record.apns_id
        );
    }
    let admin = crate::support::admin(&mock.apns);
    let listed = admin.connections().await.expect("the connection list");
    let targets: Vec<_> = listed
        .iter()
        .map(|c| c.connect_target.as_deref().unwrap_or("-"))
        .collect();
    assert_eq!(
        targets,
        [
            "api.sandbox.push.apple.com:443",
            "api.push.apple.com:2197",
            "api.development.push.apple.com:443"
        ]
    );
}

#[tokio::test]
async fn other_destinations_are_refused_with_403_and_a_reason_in_words() {
    // Arrange
    let mock = mock_with_front_door().await;
    let proxy = mock.apns.connect_proxy_address().expect("front door");

    // Act: what curl says to a user who forgot to unset HTTPS_PROXY.
    let curl = tokio::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "--max-time", "20"])
        .arg("https://example.com/")
        .env("HTTPS_PROXY", format!("http://{proxy}"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("curl runs");
    // And the proxy's own answer, raw.
    let mut tcp = tokio::net::TcpStream::connect(proxy)
        .await
        .expect("front door");
    tcp.write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .await
        .expect("request sent");
    let mut answer = String::new();
    tcp.read_to_string(&mut answer)
        .await
        .expect("an answer, then close");

    // Assert
    let stderr = String::from_utf8_lossy(&curl.stderr);
    assert!(
        !curl.status.success() && stderr.contains("403"),
        "curl should fail on the refused tunnel ({}): {stderr}",
        curl.status
    );
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(
        answer.contains("tunnels only to APNs")
            && answer.contains("api.sandbox.push.apple.com")
            && answer.contains("Refused CONNECT example.com:443"),
        "the refusal should say why and what is allowed: {answer}"
    );
    assert!(
        mock.apns.received_notifications().is_empty(),
        "nothing should reach the mock"
    );
}
