//! Property tests of the ordered checks: any request head and body, however malformed, gets
//! a well-formed answer (a reason from Apple's table with a request-error status, a detail,
//! a timestamp only on a 410) and never a panic; and no detail quotes the secret part of an
//! `authorization` header, whatever shape it comes in.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use proptest::prelude::*;

use crate::apns::checks::{validate, Ctx};
use crate::apns::push_head::{Body, PushHead};
use crate::auth::keys::{KeyStore, SigningKey};
use crate::auth::provider_token::VerifiedTokens;
use crate::record::devices::{Device, Devices};
use crate::server::connection_state::{Connection, Hello};
use crate::{CertIdentity, Clock, Environment, Reason};

/// The statuses a request can earn from the checks (fault rules reach 500 and 503).
const REQUEST_STATUSES: &[u16] = &[400, 403, 404, 405, 410, 413, 429];

/// A run of `[A-Za-z0-9_-]` that no fixed text of the mock contains: the secret to hide.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{12,40}".prop_map(|s| format!("Zq{s}"))
}

/// `authorization` values built around `secret`, in the shapes providers get wrong.
fn authorization(secret: String) -> impl Strategy<Value = String> {
    let jwt = format!("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJUIn0.{secret}");
    let shapes: Vec<String> = vec![
        jwt.clone(),
        format!("bearer {jwt}"),
        format!("bearer\t{jwt}"),
        format!("Bearer \t {jwt}"),
        format!("bearer:{jwt}"),
        format!("bearer{secret}"),
        format!("Basic {secret}"),
        format!("{secret} bearer"),
        format!("{secret}"),
        format!("bearer a.b.{secret}.d"),
        format!("bearer {secret}"),
        format!("bearer ..{secret}"),
    ];
    (proptest::sample::select(shapes), "[ \t]{0,2}", "[ -~]{0,8}")
        .prop_map(|(shape, pad, tail)| format!("{pad}{shape}{pad}{tail}"))
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "apns-id",
            "apns-expiration",
            "apns-push-type",
            "apns-topic",
            "apns-priority",
            "apns-collapse-id",
            "apns-unknown",
            "x-other",
        ])
        .prop_map(str::to_owned),
        "[a-z][a-z0-9-]{0,12}",
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~]{0,80}".prop_map(String::into_bytes),
        proptest::sample::select(vec![
            "voip",
            "alert",
            "background",
            "10",
            "5",
            "1",
            "0",
            "com.example.app",
            "com.example.app.voip",
            "com..voip",
            "",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        proptest::collection::vec(prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')], 0..40),
    ]
}

// A request that passes every check before authentication, or fails one of them: a valid
// VoIP push with up to three of its parts replaced by anything.
prop_compose! {
    fn request()(
        method in proptest::sample::select(vec!["POST", "GET", "PUT", "DELETE", "PATCH", "X-CUSTOM"]),
        path in prop_oneof![
            "/3/device/[0-9a-fA-F]{0,70}",
            "/3/device/[a-zA-Z0-9%._~-]{0,30}",
            "/3/device/?",
            "/[a-z0-9/]{0,20}",
        ],
        extra in proptest::collection::vec((header_name(), header_value()), 0..4),
        mutations in proptest::collection::vec(0..6usize, 0..3),
        auth in proptest::option::weighted(0.9, secret().prop_flat_map(|s| (Just(s.clone()), authorization(s)))),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        too_large in proptest::bool::weighted(0.05),
    ) -> (String, String, Vec<(String, Vec<u8>)>, Option<(String, String)>, Vec<u8>, bool) {
        let mut request = (
            "POST".to_owned(),
            format!("/3/device/{}", "ab".repeat(32)),
            vec![
                ("apns-push-type".to_owned(), b"voip".to_vec()),
                ("apns-topic".to_owned(), b"com.example.app.voip".to_vec()),
                ("apns-priority".to_owned(), b"10".to_vec()),
            ],
            auth,
            br#"{"aps":{}}"#.to_vec(),
            false,
        );
        for mutation in mutations {
            match mutation {
                0 => request.0 = method.to_owned(),
                1 => request.1 = path.clone(),
                2 => request.2.extend(extra.iter().cloned()),
                3 => request.2 = extra.clone(),
                4 => request.4 = body.clone(),
                _ => request.5 = too_large,
            }
        }
        request
    }
}

/// One key registered, one device registered (and unregistered), a token or certificate
/// connection: the checks' whole world.
struct World {
    keys: KeyStore,
    devices: Devices,
    clock: Clock,
    verified_tokens: VerifiedTokens,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut keys = KeyStore::new();
        let key = SigningKey::generate("TEAM123456").expect("a key");
        keys.insert(key.verifying_key());
        let devices = Devices::default();
        let token = "ab".repeat(32);
        devices.register(
            &token,
            Device {
                topic: Some("com.example.app.voip".into()),
                ..Device::default()
            },
        );
        devices.unregister(&"cd".repeat(32), 1_700_000_000_000);
        World {
            keys,
            devices,
            clock: Clock::new(),
            verified_tokens: VerifiedTokens::default(),
        }
    })
}

proptest! {
    #[test]
    fn every_request_gets_a_well_formed_answer_and_no_secret(
        (method, path, headers, auth, body, too_large) in request(),
        certificate in any::<bool>(),
        strict in any::<bool>(),
    ) {
        let mut builder = http::Request::builder().method(method.as_str()).uri(path.as_str());
        for (name, value) in &headers {
            let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) else {
                continue;
            };
            builder = builder.header(name, value);
        }
        if let Some((_, value)) = &auth {
            builder = builder.header("authorization", value.as_str());
        }
        let Ok(request) = builder.body(()) else {
            // Not a request HTTP/2 can carry (the h2 layer refuses it first).
            return Ok(());
        };
        let head = PushHead::from_parts(request.into_parts().0);
        let body = Body { bytes: Bytes::from(body), too_large };
        let cert = certificate.then(|| CertIdentity {
            subject: "UID=com.example.app".into(),
            bundle_id: Some("com.example.app".into()),
            topics: vec!["com.example.app".into(), "com.example.app.voip".into()],
            environments: vec![Environment::Development],
        });
        let hello = Hello {
            peer: ([127, 0, 0, 1], 1).into(),
            alpn: None,
            sni: None,
            cert,
            connect_target: None,
        };
        let (conn, _control) = Connection::new(1, hello, 1, 0);
        let w = world();
        let ctx = Ctx {
            head: &head,
            body: &body,
            keys: &w.keys,
            verified_tokens: &w.verified_tokens,
            devices: &w.devices,
            clock: &w.clock,
            conn: &conn,
            environment: Environment::Development,
            strict_devices: strict,
            token: OnceLock::new(),
        };

        let Err(rejection) = validate(&ctx) else {
            return Ok(());
        };

        let status = rejection.reason.status();
        prop_assert!(REQUEST_STATUSES.contains(&status), "{:?} → {status}", rejection.reason);
        // The reason a client reads is one of Apple's strings, and reads back as itself.
        prop_assert_eq!(rejection.reason.as_str().parse::<Reason>().ok(), Some(rejection.reason));
        prop_assert!(!rejection.detail.trim().is_empty());
        prop_assert_eq!(rejection.timestamp.is_some(), rejection.reason == Reason::Unregistered);
        if let Some((secret, value)) = &auth {
            prop_assert!(
                !rejection.detail.contains(secret.as_str()),
                "authorization {:?}: the detail quotes it: {}", value, rejection.detail
            );
        }
    }
}
