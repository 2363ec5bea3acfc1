//! The web UI (`/` on the admin listener) in a real headless Chromium (Debian's, through its
//! chromedriver): a push sent with curl appears in the open page without reload; the previews
//! draw the incoming call, the lock screen and the rejection; filters and grouping; the device,
//! fault-rule, connection and clock panels change the mock's next answer; the replay command
//! resends a push;
//! payload markup stays text; another site or a rebound DNS name cannot use the mock; and with
//! 100 000 records held the page still opens in under a second.
//!
//! Screenshots for review land in `target/ui-screenshots/` (`docs/` holds copies for the
//! README).

use std::time::Instant;

use mock_apns::admin::PushQuery;
use mock_apns::{Device, MockApns, Reason};
use serde_json::json;

use crate::support::binary::{shell, MockProcess};
use crate::support::browser::{Browser, REBOUND_HOST};
use crate::support::push::provider_token;
use crate::support::{admin, ApnsClient, Push, DEVICE};

/// Another device token.
const OTHER: &str = "bbbbccccddddeeeeffff00001111222233334444555566667777888899990000";

fn ui(apns: &MockApns) -> String {
    format!("{}/", apns.admin_uri())
}

/// An alert push to `OTHER` with `payload`.
fn alert(apns: &MockApns, payload: serde_json::Value) -> Push {
    Push::alert(apns).to(OTHER).body(payload.to_string())
}

/// A VoIP push with `payload`.
fn call(apns: &MockApns, payload: serde_json::Value) -> Push {
    Push::voip(apns).body(payload.to_string())
}

/// Opens the push whose row shows `text` and waits for its detail.
async fn open_push(browser: &Browser, text: &str) {
    browser.wait_for(".row", text).await;
    let script = "const row = [...document.querySelectorAll('.row')]
                    .find((r) => r.textContent.includes(arguments[0]));
                  row.click();
                  return row.dataset.id;";
    let id = browser.eval_with(script, vec![json!(text)]).await;
    let id = id.as_str().expect("a row id");
    browser
        .wait_for(&format!("#detail[data-id='{id}']"), "")
        .await;
}

async fn show_tab(browser: &Browser, tab: &str) {
    browser.click(&format!("[data-tab={tab}]")).await;
    browser
        .wait_for(&format!(".tab.active[data-tab={tab}]"), "")
        .await;
}

#[tokio::test]
async fn a_push_sent_with_curl_appears_in_the_open_page_without_a_reload() {
    let apns = MockApns::start().await;
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;
    browser.wait_for("#live[data-state=live]", "").await;
    let empty = browser.text("#list-total").await;
    browser.eval("window.sameDocument = 'yes'").await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, apns.ca_cert_pem()).unwrap();

    let curl = format!(
        "curl -s -i --http2 --cacert {ca} -H 'authorization: bearer {jwt}' \
         -H 'apns-push-type: voip' -H 'apns-topic: com.example.app.voip' \
         -d '{{\"aps\":{{}},\"caller\":\"Alice\"}}' {url}/3/device/{DEVICE}",
        ca = ca.display(),
        jwt = provider_token(&apns),
        url = apns.uri(),
    );
    let sent = shell(&curl).await;
    let row = browser.wait_for(".row", "Incoming call · Alice").await;

    assert!(String::from_utf8_lossy(&sent.stdout).starts_with("HTTP/2 200"));
    assert_eq!(empty.as_deref(), Some("0 pushes"));
    assert!(row.contains("voip") && row.contains("200"), "{row}");
    assert_eq!(
        browser.eval("return window.sameDocument").await,
        "yes",
        "no reload"
    );
    browser
        .wait_until("document.title === '(1) mock-apns'")
        .await;
    assert_eq!(
        browser.text("#list-unread").await.as_deref(),
        Some("1 unread")
    );
    browser.close().await;
}

#[tokio::test]
async fn the_incoming_call_preview_shows_the_caller_from_the_payload() {
    let apns = MockApns::start().await;
    apns.register_device(
        DEVICE,
        Device {
            name: Some("Bob's iPhone".into()),
            ..Device::default()
        },
    );
    let client = ApnsClient::connect(&apns).await;
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;

    let payload = json!({"aps": {}, "call_id": "42", "caller": "Alice Martin"});
    client.send(&call(&apns, payload)).await.unwrap();
    open_push(&browser, "Alice Martin").await;
    show_tab(&browser, "Preview").await;
    let caller = browser.wait_for(".phone-call .caller", "").await;
    let device = browser.text(".row .c-device").await;
    let shot = browser
        .screenshot("incoming-call", Some(".preview-stage"))
        .await;
    // A payload that keeps its caller elsewhere: the JSON pointer setting finds it.
    let elsewhere = json!({
        "aps": {}, "callee": "me", "who": {"display": "Dr. Zed"}, "callUUID": "c-7"
    });
    client.send(&call(&apns, elsewhere)).await.unwrap();
    open_push(&browser, "callee").await;
    let unknown = browser.wait_for(".phone-call .caller", "").await;
    // Its call id where the mock looks for one (`--call-id-pointer`'s defaults).
    let call_id = browser.wait_for(".facts dd", "c-7").await;
    browser.type_into("#caller-pointer", "/who/display\n").await;
    let pointed = browser.wait_for(".phone-call .caller", "Dr. Zed").await;

    assert_eq!(caller, "Alice Martin");
    assert_eq!(
        device.as_deref(),
        Some("Bob's iPhone"),
        "named when registered"
    );
    assert!(shot.is_file());
    assert_eq!(unknown, "Unknown caller");
    assert_eq!(call_id, "c-7");
    assert_eq!(pointed, "Dr. Zed");
    browser.close().await;
}

#[tokio::test]
async fn the_lock_screen_preview_shows_title_body_badge_and_sound() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;

    let payload = json!({"aps": {
        "alert": {"title": "Bob", "subtitle": "Team chat", "body": "Lunch at 12? I booked the usual place."},
        "badge": 3, "sound": "default", "thread-id": "chat-7"}});
    client.send(&alert(&apns, payload)).await.unwrap();
    open_push(&browser, "Lunch at 12?").await;
    show_tab(&browser, "Preview").await;
    let title = browser.wait_for(".phone-lock .n-title", "").await;
    let body = browser.text(".phone-lock .n-body").await;
    let badge = browser.text(".phone-lock .badge").await;
    let app = browser.text(".phone-lock .app-name").await;
    let facts = browser.text(".facts").await.unwrap_or_default();
    let shot = browser
        .screenshot("lock-screen", Some(".preview-stage"))
        .await;
    let keyed = json!({"aps": {"alert": {"loc-key": "GAME_PLAY_REQUEST_FORMAT", "loc-args": ["Jenna", "Frank"]}}});
    client.send(&alert(&apns, keyed)).await.unwrap();
    open_push(&browser, "GAME_PLAY").await;
    let key = browser.wait_for(".phone-lock .n-body .loc-key", "").await;
    let silent = json!({"aps": {"content-available": 1}});
    client
        .send(
            &alert(&apns, silent)
                .header("apns-push-type", "background")
                .header("apns-priority", "5"),
        )
        .await
        .unwrap();
    open_push(&browser, "Silent").await;
    let wakes = browser.wait_for(".phone-silent .silent-title", "").await;

    assert_eq!(title, "Bob");
    assert_eq!(
        body.as_deref(),
        Some("Lunch at 12? I booked the usual place.")
    );
    assert_eq!(badge.as_deref(), Some("3"));
    assert_eq!(app.as_deref(), Some("Example"), "from com.example.app");
    assert!(
        facts.contains("Sounddefault") && facts.contains("Threadchat-7"),
        "{facts}"
    );
    assert!(shot.is_file());
    assert_eq!(
        key, "GAME_PLAY_REQUEST_FORMAT (Jenna, Frank)",
        "the key, as the key"
    );
    assert_eq!(wakes, "Silent — wakes the app in the background");
    browser.close().await;
}

#[tokio::test]
async fn a_rejected_push_shows_its_reason_and_apples_explanation_instead_of_a_preview() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;

    client
        .send(&Push::voip(&apns).header("apns-priority", "7"))
        .await
        .unwrap();
    open_push(&browser, "BadPriority").await;
    show_tab(&browser, "Preview").await;
    let reason = browser.wait_for(".rejection .rejection-reason", "").await;
    let explanation = browser.text(".rejection-explanation").await;
    let code = browser.text(".rejection-code").await;
    let phones = browser
        .eval("return document.querySelectorAll('.phone').length")
        .await;
    show_tab(&browser, "Why").await;
    let why = browser.text("#detail-body").await.unwrap_or_default();
    let detail = apns.received_notifications()[0].detail.clone().unwrap();

    assert_eq!(reason, "BadPriority");
    assert_eq!(code.as_deref(), Some("400"));
    let table = Reason::BadPriority.explanation().replace('`', "");
    assert_eq!(
        explanation.as_deref(),
        Some(&*table),
        "the library's one table"
    );
    assert_eq!(phones, 0, "no phone sees a rejected push");
    assert!(
        why.contains(&*detail),
        "the record's detail, {detail:?}, in {why}"
    );
    browser.close().await;
}

#[tokio::test]
async fn filters_narrow_the_list_and_apply_to_pushes_arriving_live() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();
    client
        .send(&alert(&apns, json!({"aps": {"alert": "pizza tonight?"}})))
        .await
        .unwrap();
    client
        .send(&Push::voip(&apns).header("apns-priority", "7"))
        .await
        .unwrap();
    client
        .send(&alert(&apns, json!({"aps": {"alert": "meeting moved"}})))
        .await
        .unwrap();
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;
    let rows = "document.querySelectorAll('.row').length";
    let devices = "[...document.querySelectorAll('.row .c-device')].map((d) => d.title)";
    browser.wait_until(&format!("{rows} === 4")).await;

    browser.type_into("#f-device", OTHER).await;
    browser.wait_until(&format!("{rows} === 2")).await;
    // Live: a push that does not match, then one that does; the stream keeps id order.
    client.send(&Push::voip(&apns)).await.unwrap();
    client
        .send(&alert(&apns, json!({"aps": {"alert": "live one"}})))
        .await
        .unwrap();
    browser.wait_for(".row", "live one").await;
    let by_device = browser.eval(&format!("return {devices}")).await;
    browser.click("#f-reset").await;
    let all = format!("{rows} === 6");
    // One row left, and it is the one the filter is about (not the previous filter's).
    let only = |text: &str| {
        format!("{rows} === 1 && document.querySelector('.row').textContent.includes('{text}')")
    };
    browser.wait_until(&all).await;
    browser.select("#f-status", "rejected").await;
    browser.wait_until(&only("BadPriority")).await;
    let rejected = browser.text(".row .c-status").await;
    browser.select("#f-status", "").await;
    browser.wait_until(&all).await;
    browser.select("#f-reason", "BadPriority").await;
    browser.wait_until(&only("BadPriority")).await;
    browser.select("#f-reason", "").await;
    browser.wait_until(&all).await;
    browser.type_into("#f-q", "PIZZA").await;
    browser.wait_until(&only("pizza")).await;
    let found = browser.text(".row .c-gist").await;
    browser.type_into("#f-q", "").await;
    browser.wait_until(&all).await;
    browser.select("#f-type", "alert").await;
    browser.wait_until(&format!("{rows} === 3")).await;
    let types = browser.texts(".row .c-type").await;
    browser.select("#f-type", "").await;
    browser.wait_until(&all).await;
    open_push(&browser, "Incoming call").await;
    let list = browser.screenshot("inbox", None).await;

    assert_eq!(
        by_device,
        json!([OTHER, OTHER, OTHER]),
        "only {OTHER}'s pushes"
    );
    assert_eq!(rejected.as_deref(), Some("400BadPriority"));
    assert_eq!(found.as_deref(), Some("pizza tonight?"));
    assert_eq!(types, vec!["alert"; 3]);
    assert!(list.is_file());
    browser.close().await;
}

#[tokio::test]
async fn grouping_unread_marks_dark_mode_and_clear() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;
    for _ in 0..2 {
        client.send(&Push::voip(&apns)).await.unwrap();
    }
    client
        .send(&alert(&apns, json!({"aps": {"alert": "hello"}})))
        .await
        .unwrap();
    browser
        .wait_until("document.querySelectorAll('.row').length === 3")
        .await;

    browser.select("#f-group", "device").await;
    browser.wait_for(".group-row", "").await;
    let groups = browser.texts(".group-label").await;
    let sizes = browser.texts(".group-count").await;
    browser.select("#f-group", "connection").await;
    browser.wait_for(".group-row", "Connection #1").await;
    let by_connection = browser.texts(".group-label").await;
    browser.select("#f-group", "none").await;
    let unread = browser.text("#list-unread").await;
    browser.click("#mark-read").await;
    browser.wait_until("document.title === 'mock-apns'").await;
    // The theme button cycles auto → light → dark.
    browser.click("#theme").await;
    browser.click("#theme").await;
    browser
        .wait_until("document.documentElement.dataset.theme === 'dark'")
        .await;
    let background = browser
        .eval("return getComputedStyle(document.querySelector('.list-pane')).backgroundColor")
        .await;
    open_push(&browser, "hello").await;
    browser.screenshot("inbox-dark", None).await;
    browser.click("#clear").await;
    browser.wait_for("#clear.confirm", "Clear all?").await;
    browser.click("#clear").await;
    browser
        .wait_until("document.querySelectorAll('.row').length === 0")
        .await;
    let record = admin(&apns).pushes(&PushQuery::all()).await.unwrap();

    assert_eq!(groups, vec![OTHER, DEVICE], "newest group first");
    assert_eq!(sizes, vec!["1", "2"]);
    assert_eq!(by_connection, vec!["Connection #1"]);
    assert_eq!(unread.as_deref(), Some("3 unread"));
    assert_eq!(background, "rgb(20, 23, 30)", "the dark surface");
    assert!(record.is_empty(), "the record was cleared too");
    browser.close().await;
}

#[tokio::test]
async fn registering_and_unregistering_a_device_in_the_ui_changes_the_next_answers() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let browser = Browser::start().await;
    browser.open_ui(&format!("{}#/devices", ui(&apns))).await;

    browser.type_into("#dev-token", OTHER).await;
    browser.type_into("#dev-name", "Carol's iPad").await;
    browser.type_into("#dev-topic", "com.example.other").await;
    browser.click("#dev-register").await;
    let row = format!("#devices-table tr[data-token='{OTHER}']");
    browser.wait_for(&row, "Carol's iPad").await;
    let wrong_topic = client.send(&Push::voip(&apns).to(OTHER)).await.unwrap();
    browser
        .type_into(&format!("{row} input"), "1700000000000")
        .await;
    browser.click(&format!("{row} button")).await;
    browser.wait_for(&row, "410").await;
    let on_its_topic = Push::voip(&apns)
        .to(OTHER)
        .header("apns-push-type", "alert")
        .header("apns-topic", "com.example.other");
    let gone = client.send(&on_its_topic).await.unwrap();
    browser.click("a[data-view=inbox]").await;
    let named = browser.wait_for(".row .c-device", "Carol's iPad").await;

    assert_eq!(wrong_topic.status, 400);
    assert_eq!(
        wrong_topic.reason().as_deref(),
        Some("DeviceTokenNotForTopic")
    );
    assert_eq!(gone.status, 410);
    assert_eq!(gone.reason().as_deref(), Some("Unregistered"));
    assert_eq!(
        gone.timestamp(),
        Some(1_700_000_000_000),
        "the timestamp given in the UI"
    );
    assert_eq!(named, "Carol's iPad");
    browser.close().await;
}

#[tokio::test]
async fn adding_and_deleting_a_fault_rule_in_the_ui_changes_the_next_answers() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;
    open_push(&browser, "Incoming call").await;

    browser.click("a[data-view=faults]").await;
    browser.select("#fault-template", "reject").await;
    browser.select("#fault-scope", "device").await;
    let template = browser
        .eval("return document.getElementById('fault-json').value")
        .await;
    browser.click("#fault-add").await;
    browser
        .wait_for("#faults-table tr[data-id]", "Unregistered")
        .await;
    let faulted = client.send(&Push::voip(&apns)).await.unwrap();
    let untouched = client.send(&Push::voip(&apns).to(OTHER)).await.unwrap();
    browser.click("a[data-view=inbox]").await;
    browser.click("a[data-view=faults]").await;
    let hits = browser.wait_for("#faults-table td.num", "1 / 1").await;
    browser.click("#faults-table tr[data-id] button").await;
    browser.wait_for(".empty-state", "No fault rules").await;
    let restored = client.send(&Push::voip(&apns)).await.unwrap();
    // A rule the mock refuses is explained, and nothing is mounted.
    browser
        .type_into("#fault-json", r#"{"action":{"reject":"Gone"}}"#)
        .await;
    browser.click("#fault-add").await;
    let refusal = browser.wait_for(".toast.error", "Gone").await;

    let template: serde_json::Value =
        serde_json::from_str(template.as_str().unwrap()).expect("the template is JSON");
    assert_eq!(
        template["match"]["device_token"], DEVICE,
        "scoped to the selected push"
    );
    assert_eq!(faulted.status, 410, "{faulted:?}");
    assert_eq!(faulted.reason().as_deref(), Some("Unregistered"));
    assert_eq!(untouched.status, 200, "another device is not matched");
    assert!(hits.starts_with('1'), "{hits}");
    assert_eq!(restored.status, 200, "the rule was deleted");
    assert!(refusal.contains("unknown APNs reason"), "{refusal}");
    assert!(admin(&apns).faults().await.unwrap().is_empty());
    browser.close().await;
}

#[tokio::test]
async fn the_detail_tabs_show_every_header_the_payload_size_auth_and_connection() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let token = provider_token(&apns);
    client
        .send(&Push::voip(&apns).header("apns-collapse-id", "call-42"))
        .await
        .unwrap();
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;
    open_push(&browser, "Incoming call").await;

    show_tab(&browser, "Headers").await;
    let headers = browser.text(".headers-table").await.unwrap_or_default();
    show_tab(&browser, "Payload").await;
    let size = browser.text(".size-label").await.unwrap_or_default();
    let json = browser.text("pre.json").await.unwrap_or_default();
    show_tab(&browser, "Auth").await;
    let auth = browser.text("#detail-body").await.unwrap_or_default();
    show_tab(&browser, "Connection").await;
    let connection = browser.wait_for("#detail-body", "ALPN").await;
    let page = browser.eval("return document.body.innerText").await;

    for header in [
        "apns-push-typevoip",
        "apns-topiccom.example.app.voip",
        "apns-collapse-idcall-42",
    ] {
        assert!(headers.contains(header), "{header:?} in {headers}");
    }
    assert!(size.starts_with("42 B of 5.0 KB"), "{size}");
    assert!(json.contains("\"caller\": \"Alice\""), "{json}");
    assert!(auth.contains(apns.dev_key().key_id()), "{auth}");
    assert!(auth.contains("The signature is never recorded"), "{auth}");
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !page.as_str().unwrap().contains(signature),
        "no signature in the page"
    );
    assert!(
        connection.contains("h2") && connection.contains("stream limit at this push"),
        "{connection}"
    );
    browser.close().await;
}

#[tokio::test]
async fn the_replay_command_resends_the_push_as_recorded() {
    let state = tempfile::tempdir().unwrap();
    let apns = MockApns::builder().state_dir(state.path()).start().await;
    let client = ApnsClient::connect(&apns).await;
    let payload =
        json!({"aps": {"alert": {"title": "It's \"quoted\"", "body": "a 'single' $HOME"}}});
    client.send(&alert(&apns, payload)).await.unwrap();
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;
    open_push(&browser, "quoted").await;

    show_tab(&browser, "Replay").await;
    let command = browser.wait_for("#replay-command", "curl").await;
    let sent = shell(&format!(
        "APNS_JWT='{}'; {}",
        provider_token(&apns),
        command
    ))
    .await;
    let record = admin(&apns).pushes(&PushQuery::all()).await.unwrap();

    let out = String::from_utf8_lossy(&sent.stdout);
    assert!(out.starts_with("HTTP/2 200"), "{out}\n{command}");
    assert_eq!(record.len(), 2);
    assert_eq!(record[1].payload_json(), record[0].payload_json());
    assert_eq!(record[1].headers, record[0].headers);
    assert_eq!(record[1].device_token, record[0].device_token);
    browser.close().await;
}

#[tokio::test]
async fn payload_markup_is_shown_as_text_and_the_page_runs_only_its_own_scripts() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let title = r#"<img src=x onerror="document.title='pwned'">"#;
    let body = "</script><script>document.title='pwned'</script>";
    let payload =
        json!({"aps": {"alert": {"title": title, "body": body}}, "<b>key</b>": "<i>v</i>"});
    client.send(&alert(&apns, payload)).await.unwrap();
    let browser = Browser::start().await;
    browser.open_ui(&ui(&apns)).await;

    open_push(&browser, "<img src=x").await;
    show_tab(&browser, "Preview").await;
    let shown_title = browser.wait_for(".n-title", "").await;
    let shown_body = browser.text(".n-body").await;
    show_tab(&browser, "Payload").await;
    let json = browser.text("pre.json").await.unwrap_or_default();
    let injected = browser
        .eval(
            "return document.querySelectorAll('main img, main script').length
               + [...document.querySelectorAll('main b, main i')]
                   .filter((e) => e.textContent === 'key' || e.textContent === 'v').length",
        )
        .await;
    let scripts = browser.eval("return document.scripts.length").await;
    let csp = browser
        .eval_async("const done = arguments[0]; fetch('/').then((r) => done(r.headers.get('content-security-policy')))")
        .await;

    assert_eq!(shown_title, title);
    assert_eq!(shown_body.as_deref(), Some(body));
    assert!(json.contains(r#""<b>key</b>": "<i>v</i>""#), "{json}");
    assert_eq!(injected, 0, "no element made from the payload");
    assert_eq!(scripts, 1, "only the page's own module");
    assert_ne!(browser.eval("return document.title").await, "pwned");
    let csp = csp.as_str().unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    browser.close().await;
}

/// Serves `html` as the only page of another web site, on `localhost:<free port>` (a
/// different site from the mock's 127.0.0.1); stops when the test's runtime ends.
async fn other_site(html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let html = html.clone();
            let page = hyper::service::service_fn(move |_req| {
                let body = http_body_util::Full::new(bytes::Bytes::from(html.clone()));
                let mut response = http::Response::new(body);
                response.headers_mut().insert(
                    "content-type",
                    http::HeaderValue::from_static("text/html; charset=utf-8"),
                );
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let io = hyper_util::rt::TokioIo::new(tcp);
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, page));
        }
    });
    format!("http://localhost:{port}/")
}

#[tokio::test]
async fn a_page_of_another_site_can_neither_drive_nor_read_the_mock() {
    let apns = MockApns::start().await;
    let mock = apns.admin_uri();
    // The classic cross-site request: a form posting text/plain that reads as JSON, which no
    // CORS preflight stops; and a page that tries to read the record and follow the stream.
    // The form answers into a frame, as a hidden one would: the page itself never navigates,
    // so the wait is on the frame's `load` event, not on a race with a navigation.
    let attacker = other_site(format!(
        r#"<!doctype html><title>another site</title>
        <iframe name="answer"></iframe>
        <form id="csrf" method="POST" enctype="text/plain" action="{mock}/api/v1/faults" target="answer">
          <input name='{{"action":{{"reject":"BadTopic"}},"name":"' value='"}}'>
          <button id="go">win a prize</button>
        </form>"#
    ))
    .await;
    let browser = Browser::start().await;
    browser.goto(&attacker).await;

    let read = browser
        .eval_async(&format!(
            "const done = arguments[0];
             fetch('{mock}/api/v1/pushes').then((r) => r.text()).then(done, (e) => done('refused: ' + e))"
        ))
        .await;
    let stream = browser
        .eval_async(&format!(
            "const done = arguments[0];
             const es = new EventSource('{mock}/api/v1/events');
             es.onerror = () => {{ done(es.readyState === EventSource.CLOSED ? 'closed' : 'retrying'); es.close(); }};
             es.onopen = () => done('open');"
        ))
        .await;
    browser
        .eval(
            "const frame = document.querySelector('iframe');
             window.answered = new Promise((loaded) => frame.addEventListener('load', loaded, { once: true }));",
        )
        .await;
    browser.click("#go").await;
    browser
        .eval_async("const done = arguments[0]; window.answered.then(() => done(true));")
        .await;
    let answer = browser.frame_text("iframe").await;
    let rules = admin(&apns).faults().await.unwrap();

    assert!(answer.contains("is not this admin API's own"), "{answer}");
    assert!(rules.is_empty(), "no rule mounted: {rules:?}");
    assert!(read.as_str().unwrap().starts_with("refused"), "{read}");
    assert_eq!(stream, "closed");
    browser.close().await;
}

#[tokio::test]
async fn a_dns_name_rebound_to_loopback_can_neither_drive_nor_read_the_mock() {
    let apns = MockApns::start().await;
    let port = apns.admin_uri().rsplit(':').next().unwrap().to_owned();
    let browser = Browser::start().await;

    // The attacker's name now resolves to 127.0.0.1: to the browser the mock is same-origin.
    browser
        .goto(&format!("http://{REBOUND_HOST}:{port}/"))
        .await;
    let page = browser.text("body").await.unwrap_or_default();
    let drive = browser
        .eval_async(
            "const done = arguments[0];
             fetch('/api/v1/faults', {method: 'POST', headers: {'content-type': 'application/json'},
               body: JSON.stringify({action: {reject: 'BadTopic'}})}).then((r) => done(r.status))",
        )
        .await;
    let read = browser
        .eval_async(
            "const done = arguments[0]; fetch('/api/v1/pushes').then((r) => done(r.status))",
        )
        .await;

    assert!(page.contains("is not this admin API's"), "{page}");
    assert_eq!(drive, 403);
    assert_eq!(read, 403);
    assert!(admin(&apns).faults().await.unwrap().is_empty());
    browser.close().await;
}

#[tokio::test]
async fn the_banners_address_and_curl_show_the_call_live_with_its_preview() {
    let state = tempfile::tempdir().unwrap();
    let mock = MockProcess::start(state.path(), &[]).await;
    let browser = Browser::start().await;
    browser.open_ui(&mock.banner.ui_url).await;
    browser.wait_for("#live[data-state=live]", "").await;

    let sent = shell(&mock.banner.curl).await;
    open_push(&browser, "Incoming call · Alice").await;
    show_tab(&browser, "Preview").await;
    let caller = browser.wait_for(".phone-call .caller", "").await;

    assert!(String::from_utf8_lossy(&sent.stdout).starts_with("HTTP/2 200"));
    assert_eq!(caller, "Alice");
    browser.close().await;
}

/// 100 000 records held (the default `--max-records`): the page shows the newest page in under
/// a second, keeps about one screen of rows in the DOM, filters in under a second, and loads
/// older pages as you scroll.
#[tokio::test]
async fn with_100_000_records_held_the_page_opens_in_under_a_second_and_stays_responsive() {
    const RECORDS: usize = 100_000;
    const CONNECTIONS: usize = 4;
    const SENDERS: usize = 64;
    let apns = MockApns::start().await;
    let filling = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for c in 0..CONNECTIONS {
        let client = ApnsClient::connect(&apns).await;
        client.unlock_streams(&Push::voip(&apns)).await.unwrap();
        for s in 0..SENDERS {
            let client = client.clone();
            // One push in ten is refused, so the rejected filter has something to find.
            let ok = Push::voip(&apns);
            let refused = Push::voip(&apns).header("apns-priority", "7");
            let share = RECORDS / (CONNECTIONS * SENDERS) + 1;
            senders.spawn(async move {
                for i in 0..share {
                    let push = if (c + s + i) % 10 == 0 { &refused } else { &ok };
                    client.send(push).await.expect("an answer");
                }
            });
        }
    }
    while let Some(sender) = senders.join_next().await {
        sender.expect("a sender finished");
    }
    let filled = filling.elapsed();
    let browser = Browser::start().await;

    browser.open_ui(&ui(&apns)).await;
    let opened_ms = browser
        .eval("return performance.getEntriesByName('inbox-ready')[0].startTime")
        .await
        .as_f64()
        .unwrap();
    let total = browser.text("#list-total").await;
    let dom_rows = browser
        .eval("return document.querySelectorAll('.row').length")
        .await;
    let filter = browser
        .eval_async(
            "const done = arguments[0];
             const total = document.getElementById('list-total');
             const before = total.textContent;
             const t0 = performance.now();
             new MutationObserver((_, o) => { if (total.textContent !== before) { o.disconnect(); done([performance.now() - t0, total.textContent]); } })
               .observe(total, {childList: true, characterData: true, subtree: true});
             const status = document.getElementById('f-status');
             status.value = 'rejected';
             status.dispatchEvent(new Event('change'));",
        )
        .await;
    browser
        .eval("const rows = document.getElementById('rows'); rows.scrollTop = rows.scrollHeight")
        .await;
    browser
        .wait_until("document.getElementById('rows-spacer').offsetHeight > 200 * 38")
        .await;
    let dom_rows_after_scroll = browser
        .eval("return document.querySelectorAll('.row').length")
        .await;

    let filter_ms = filter[0].as_f64().unwrap();
    eprintln!(
        "100 000 records: filled in {filled:?}; page ready {opened_ms:.0} ms after navigation; \
         rejected filter {filter_ms:.0} ms; {dom_rows} rows in the DOM"
    );
    assert_eq!(total.as_deref(), Some("100,000 pushes"));
    assert!(
        opened_ms < 1000.0,
        "the page took {opened_ms:.0} ms to show its first rows"
    );
    assert!(
        dom_rows.as_u64().unwrap() < 100,
        "{dom_rows} rows in the DOM"
    );
    assert!(filter_ms < 1000.0, "filtering took {filter_ms:.0} ms");
    assert!(filter[1].as_str().unwrap().ends_with("pushes"), "{filter}");
    assert!(dom_rows_after_scroll.as_u64().unwrap() < 100);
    browser.close().await;
}

#[tokio::test]
async fn goaway_and_the_clock_from_their_panels_reach_the_mock() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();
    let browser = Browser::start().await;
    browser
        .open_ui(&format!("{}#/connections", ui(&apns)))
        .await;

    let row = "#connections-table tr[data-id='1']";
    browser
        .wait_for(&format!("{row} .conn-state"), "open")
        .await;
    browser.click(&format!("{row} button")).await;
    let closing = browser
        .wait_for(&format!("{row} .conn-state"), "GOAWAY")
        .await;
    let connection = admin.connection(1).await.unwrap();
    browser.click("a[data-view=clock]").await;
    browser.wait_for("#clock-offset", "not advanced").await;
    browser.type_into("#clock-seconds", "3700").await;
    browser.click("#clock-advance").await;
    let offset = browser.wait_for("#clock-offset", "ahead").await;
    let expired = ApnsClient::connect(&apns)
        .await
        .send(&Push::voip(&apns))
        .await
        .unwrap();

    assert!(closing.contains("GOAWAY Shutdown"), "{closing}");
    let how = connection.closed_how.unwrap_or_default();
    assert!(how.contains("GOAWAY Shutdown"), "{how}");
    assert!(offset.contains("3700000 ms"), "{offset}");
    assert_eq!(admin.clock().await.unwrap().offset_ms, 3_700_000);
    assert_eq!(expired.status, 403);
    assert_eq!(expired.reason().as_deref(), Some("ExpiredProviderToken"));
    browser.close().await;
}
