//! The admin API's request checks: a web page cannot reach it (no form posts, no foreign
//! `Origin`, no DNS-rebound `Host`), the project's own clients still can, and binding it beyond
//! loopback says so loudly at start.

use http::Method;
use mock_apns::MockApns;

use crate::support::admin;
use crate::support::admin::error_of;
use crate::support::binary::MockProcess;

/// A fault rule that would break every later connection of the developer's provider, as a
/// `<form enctype="text/plain">` with one field named `{"name":"` valued `","action":…}`
/// sends it (`name=value`).
const RULE: &str = r#"{"name":"=","action":{"close":true}}"#;

/// An HTML form can post `text/plain`, `application/x-www-form-urlencoded` or
/// `multipart/form-data` to any address without the browser asking first; with
/// `enctype="text/plain"` its body can even be JSON. None of them may change the mock.
#[tokio::test]
async fn a_form_post_from_a_web_page_cannot_mount_a_fault_rule() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|c| vec![("content-type", c)])
            .unwrap_or_default();
        for path in [
            "/api/v1/faults",
            "/api/v1/clock",
            "/api/v1/connections/1/goaway",
        ] {
            let answer = admin
                .send_with_headers(Method::POST, path, &headers, RULE)
                .await
                .unwrap();

            assert_eq!(answer.status, 415, "{content_type:?} {path}: {answer:?}");
            let error = error_of(&answer.json());
            assert!(
                error.contains("application/json"),
                "{content_type:?}: {error}"
            );
        }
        let put = admin
            .send_with_headers(
                Method::PUT,
                &format!("/api/v1/devices/{}", "ab".repeat(32)),
                &headers,
                r#"{"topic":"com.example.app"}"#,
            )
            .await
            .unwrap();
        assert_eq!(put.status, 415, "{content_type:?} PUT: {put:?}");
    }
    assert!(apns.faults().is_empty(), "a rule was mounted");
    assert!(admin.devices().await.unwrap().is_empty());
    assert_eq!(apns.clock().offset(), std::time::Duration::ZERO);
    // The JSON content type works, with or without parameters.
    let answer = admin
        .send_with_headers(
            Method::POST,
            "/api/v1/faults",
            &[("content-type", "Application/JSON; charset=utf-8")],
            r#"{"action":{"close":true}}"#,
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
}

/// A page on another site that scripts a request (fetch with `mode: "no-cors"`, or a browser
/// that sends JSON without asking) carries its own `Origin`: refused, reads included.
#[tokio::test]
async fn a_request_from_another_origin_is_refused() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let json = [("content-type", "application/json")];
    let own = format!("http://{}", apns.admin_uri().trim_start_matches("http://"));

    for origin in [
        "http://evil.example",
        "https://evil.example",
        "null",
        "http://localhost:1",
        &format!("https://{}", own.trim_start_matches("http://")),
    ] {
        for (method, path) in [
            (Method::POST, "/api/v1/faults"),
            (Method::DELETE, "/api/v1/pushes"),
            (Method::GET, "/api/v1/pushes"),
        ] {
            let headers = [json[0], ("origin", origin)];
            let answer = admin
                .send_with_headers(method.clone(), path, &headers, RULE)
                .await
                .unwrap();

            assert_eq!(answer.status, 403, "{origin} {method} {path}: {answer:?}");
            let error = error_of(&answer.json());
            assert!(error.contains("Origin"), "{origin}: {error}");
        }
    }
    let cross_site = admin
        .send_with_headers(
            Method::POST,
            "/api/v1/faults",
            &[json[0], ("sec-fetch-site", "cross-site")],
            RULE,
        )
        .await
        .unwrap();
    assert_eq!(cross_site.status, 403, "{cross_site:?}");
    assert!(apns.faults().is_empty(), "a rule was mounted");
    // A page served by the admin listener itself (the web UI to come) is its own origin.
    let same = admin
        .send_with_headers(
            Method::POST,
            "/api/v1/faults",
            &[json[0], ("origin", &own), ("sec-fetch-site", "same-origin")],
            RULE,
        )
        .await
        .unwrap();
    assert_eq!(same.status, 201, "{same:?}");
}

/// DNS rebinding: a page on evil.example whose name then resolves to 127.0.0.1 talks to the
/// mock as its own origin; only the `Host` header gives it away.
#[tokio::test]
async fn a_host_that_is_not_loopback_or_the_listen_address_is_refused() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let port = apns.admin_uri().rsplit(':').next().unwrap().to_owned();

    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("192.168.1.20:{port}"),
        String::new(),
    ] {
        let answer = admin
            .send_with_headers(Method::GET, "/api/v1/pushes", &[("host", &host)], "")
            .await
            .unwrap();

        assert!(
            answer.status == 403 || answer.status == 400,
            "{host:?}: {answer:?}"
        );
        let error = error_of(&answer.json());
        assert!(error.contains("Host"), "{host:?}: {error}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("127.0.0.1:{port}"),
        format!("127.1.2.3:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
    ] {
        let answer = admin
            .send_with_headers(Method::GET, "/api/v1/health", &[("host", &host)], "")
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{host}: {answer:?}");
    }
}

/// The project's own clients: the typed client, and curl as the README writes it (`-X DELETE`
/// without a body, and `-H 'content-type: application/json'` with one).
#[tokio::test]
async fn the_typed_client_and_bodyless_deletes_still_work() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let token = "ab".repeat(32);

    let rule = admin
        .add_fault_json(&serde_json::json!({"action": {"close": true}}))
        .await
        .unwrap();
    admin
        .register_device(&token, &mock_apns::Device::default())
        .await
        .unwrap();
    admin
        .advance_clock(std::time::Duration::from_secs(1))
        .await
        .unwrap();
    let removed = admin
        .send(Method::DELETE, &format!("/api/v1/faults/{}", rule.id), None)
        .await
        .unwrap();
    let unregistered = admin.unregister_device(&token, Some(5)).await.unwrap();
    admin.clear_pushes().await.unwrap();

    assert_eq!(removed.status, 200, "{removed:?}");
    assert!(apns.faults().is_empty());
    assert_eq!(unregistered, 5);
}

/// `--admin-listen 0.0.0.0:…` exposes every push and the fault API to the network; the mock
/// says so before anything else, and the API still answers at the address it was given.
#[tokio::test]
async fn binding_the_admin_api_beyond_loopback_prints_a_loud_warning() {
    let state = tempfile::tempdir().unwrap();
    let mut mock = MockProcess::start(state.path(), &["--admin-listen", "0.0.0.0:0"]).await;

    let warning = mock.stderr_line("WARNING").await;
    let admin = mock.admin();
    let health = admin.health().await;

    assert!(warning.contains("0.0.0.0"), "{warning}");
    assert!(warning.contains("admin API"), "{warning}");
    assert!(health.is_ok(), "{health:?}");

    let state = tempfile::tempdir().unwrap();
    let mut quiet = MockProcess::start(state.path(), &[]).await;
    let lines = quiet.stop_and_collect_stderr().await;
    assert!(
        !lines.iter().any(|l| l.contains("WARNING")),
        "a loopback admin API warned: {lines:?}"
    );
}

/// Behind a name (a container's, say) the API answers once that name is allowed.
#[tokio::test]
async fn a_name_given_with_admin_allow_host_is_accepted() {
    let state = tempfile::tempdir().unwrap();
    let mock = MockProcess::start(state.path(), &["--admin-allow-host", "mock-apns"]).await;
    let admin = mock.admin();
    let port = mock
        .banner
        .admin_url
        .trim_end_matches("/api/v1/")
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();

    let named = admin
        .send_with_headers(
            Method::GET,
            "/api/v1/health",
            &[("host", &format!("mock-apns:{port}"))],
            "",
        )
        .await
        .unwrap();
    let other = admin
        .send_with_headers(
            Method::GET,
            "/api/v1/health",
            &[("host", &format!("other:{port}"))],
            "",
        )
        .await
        .unwrap();

    assert_eq!(named.status, 200, "{named:?}");
    assert_eq!(other.status, 403, "{other:?}");
    let error = error_of(&other.json());
    assert!(error.contains("--admin-allow-host"), "{error}");
}
