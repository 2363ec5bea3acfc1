//! Provider-token (JWT) authentication: missing, invalid, expired, and the encodings real
//! providers use (DER signatures, standard base64 with padding, `iat` as a float or a string).

use std::time::Duration;

use mock_apns::{AuthKind, MockApns, Reason, SigningKey};

use crate::support::jwt::{
    self, sign_like_a2, signature_len, with_corrupt_signature, with_der_signature,
};
use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push};

fn with_token(apns: &MockApns, jwt: &str) -> Push {
    Push::voip(apns).header("authorization", &format!("bearer {jwt}"))
}

/// A token for the mock's development key with these claims, signed here with ring.
fn dev_token_with_claims(apns: &MockApns, claims: &str) -> String {
    let key = apns.dev_key();
    let header = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.key_id());
    jwt::sign(&key.to_pem(), &header, claims)
}

#[tokio::test]
async fn no_or_an_empty_authorization_is_missing_provider_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let absent = client
        .send(&Push::voip(&apns).without("authorization"))
        .await
        .unwrap();
    let empty = client
        .send(&Push::voip(&apns).header("authorization", "bearer "))
        .await
        .unwrap();

    for reply in [absent, empty] {
        let record = assert_rejected(&apns, &reply, Reason::MissingProviderToken);
        assert_eq!(record.auth.kind, AuthKind::None);
    }
}

#[tokio::test]
async fn a_token_whose_signature_does_not_verify_is_invalid_provider_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let forged = with_corrupt_signature(&apns.provider_token());

    let reply = client.send(&with_token(&apns, &forged)).await.unwrap();

    let record = assert_rejected(&apns, &reply, Reason::InvalidProviderToken);
    assert_eq!(record.auth.kind, AuthKind::None);
}

#[tokio::test]
async fn a_token_from_an_unregistered_key_is_invalid_provider_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let stranger = SigningKey::generate(apns.dev_key().team_id()).unwrap();

    let reply = client
        .send(&with_token(&apns, &stranger.token(apns.clock().now_secs())))
        .await
        .unwrap();

    assert_rejected(&apns, &reply, Reason::InvalidProviderToken);
}

#[tokio::test]
async fn a_token_naming_another_team_is_invalid_provider_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let now = apns.clock().now_secs();
    let jwt = dev_token_with_claims(&apns, &format!(r#"{{"iss":"OTHERTEAM1","iat":{now}}}"#));

    let reply = client.send(&with_token(&apns, &jwt)).await.unwrap();

    assert_rejected(&apns, &reply, Reason::InvalidProviderToken);
}

#[tokio::test]
async fn a_token_for_another_algorithm_is_invalid_provider_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let key = apns.dev_key();
    let now = apns.clock().now_secs();
    let jwt = jwt::sign(
        &key.to_pem(),
        &format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.key_id()),
        &format!(r#"{{"iss":"{}","iat":{now}}}"#, key.team_id()),
    );

    let reply = client.send(&with_token(&apns, &jwt)).await.unwrap();

    assert_rejected(&apns, &reply, Reason::InvalidProviderToken);
}

/// Apple: a token older than one hour gets 403 `ExpiredProviderToken`; the provider then
/// refreshes it on the same connection. The mock's clock is moved instead of waiting an hour.
#[tokio::test]
async fn a_token_older_than_an_hour_is_expired_provider_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let jwt = apns.provider_token();

    let fresh = client.send(&with_token(&apns, &jwt)).await.unwrap();
    apns.advance_clock(Duration::from_secs(59 * 60));
    let at_59_minutes = client.send(&with_token(&apns, &jwt)).await.unwrap();
    apns.advance_clock(Duration::from_secs(2 * 60));
    let at_61_minutes = client.send(&with_token(&apns, &jwt)).await.unwrap();
    let refreshed = client
        .send(&with_token(&apns, &apns.provider_token()))
        .await
        .unwrap();

    let minted = assert_accepted(&apns, &fresh).auth.iat;
    assert!(minted.is_some());
    assert_accepted(&apns, &at_59_minutes);
    let record = assert_rejected(&apns, &at_61_minutes, Reason::ExpiredProviderToken);
    assert_eq!(
        record.auth.iat, minted,
        "the record names the expired token"
    );
    assert_accepted(&apns, &refreshed);
}

/// Apple's sample token and Java providers (Pushy) carry a DER-encoded ECDSA signature; JWS
/// libraries send the 64-byte R‖S. Both must verify.
#[tokio::test]
async fn a_der_encoded_signature_is_accepted() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let raw = apns.provider_token();
    let der = with_der_signature(&raw);
    assert_eq!(signature_len(&raw), 64);
    assert!(
        (70..=72).contains(&signature_len(&der)),
        "{}",
        signature_len(&der)
    );

    let reply = client.send(&with_token(&apns, &der)).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    assert_eq!(record.auth.kind, AuthKind::Token);
    assert_eq!(record.auth.key_id.as_deref(), Some(apns.dev_key().key_id()));
}

/// Some libraries write `iat` as a float or as a numeric string; APNs takes both.
#[tokio::test]
async fn iat_as_a_float_or_a_numeric_string_is_accepted() {
    let apns = MockApns::start().await;
    let now = apns.clock().now_secs();
    let team = apns.dev_key().team_id().to_owned();

    for claims in [
        format!(r#"{{"iss":"{team}","iat":{now}.25}}"#),
        format!(r#"{{"iss":"{team}","iat":"{now}"}}"#),
    ] {
        // A fresh connection each, so neither token is served from the connection's cache.
        let client = ApnsClient::connect(&apns).await;
        let jwt = dev_token_with_claims(&apns, &claims);

        let reply = client.send(&with_token(&apns, &jwt)).await.unwrap();

        let record = assert_accepted(&apns, &reply);
        assert_eq!(record.auth.iat, Some(now), "{claims}");
        assert_eq!(record.auth.team_id.as_deref(), Some(team.as_str()));
    }
}

/// Apple: refresh a token no more than once every 20 minutes per connection; a new token
/// sooner gets 429 `TooManyProviderTokenUpdates` (the classic "new JWT per push" bug).
#[tokio::test]
async fn a_new_token_within_20_minutes_is_too_many_provider_token_updates() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let minted_per_push = client
        .send(&with_token(&apns, &apns.provider_token()))
        .await
        .unwrap();
    apns.advance_clock(Duration::from_secs(20 * 60));
    let refreshed_on_time = client
        .send(&with_token(&apns, &apns.provider_token()))
        .await
        .unwrap();

    assert_accepted(&apns, &first);
    assert_rejected(&apns, &minted_per_push, Reason::TooManyProviderTokenUpdates);
    assert_accepted(&apns, &refreshed_on_time);
}

/// The first accepted token pins the connection to its team: another team's token on it is
/// refused, and works on a connection of its own.
#[tokio::test]
async fn a_second_team_on_one_connection_is_invalid_provider_token() {
    let other_team = SigningKey::generate("OTHERTEAM1").unwrap();
    let apns = MockApns::builder()
        .token_key(other_team.verifying_key())
        .start()
        .await;
    let shared = ApnsClient::connect(&apns).await;
    let own = ApnsClient::connect(&apns).await;
    let other_token = other_team.token(apns.clock().now_secs());

    let first = shared.send(&Push::voip(&apns)).await.unwrap();
    let mixed = shared.send(&with_token(&apns, &other_token)).await.unwrap();
    let alone = own.send(&with_token(&apns, &other_token)).await.unwrap();

    assert_accepted(&apns, &first);
    assert_rejected(&apns, &mixed, Reason::InvalidProviderToken);
    let record = assert_accepted(&apns, &alone);
    assert_eq!(record.auth.team_id.as_deref(), Some("OTHERTEAM1"));
}

/// Another key of the same team on a connection pinned to the first key: 403
/// `UnrelatedKeyIdInToken`, "open a new connection".
#[tokio::test]
async fn another_key_on_a_pinned_connection_is_unrelated_key_id_in_token() {
    let apns_team = mock_apns::DEV_TEAM_ID;
    let second_key = SigningKey::generate(apns_team).unwrap();
    let apns = MockApns::builder()
        .token_key(second_key.verifying_key())
        .start()
        .await;
    let client = ApnsClient::connect(&apns).await;
    let second_token = second_key.token(apns.clock().now_secs());

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let switched = client
        .send(&with_token(&apns, &second_token))
        .await
        .unwrap();
    let new_connection = ApnsClient::connect(&apns)
        .await
        .send(&with_token(&apns, &second_token))
        .await
        .unwrap();

    assert_accepted(&apns, &first);
    assert_rejected(&apns, &switched, Reason::UnrelatedKeyIdInToken);
    assert_accepted(&apns, &new_connection);
}

/// A team key limited to production, used against the sandbox.
#[tokio::test]
async fn a_key_limited_to_the_other_environment_is_bad_environment_key_id_in_token() {
    let production_only = SigningKey::generate(mock_apns::DEV_TEAM_ID).unwrap();
    let apns = MockApns::builder()
        .token_key(
            production_only
                .verifying_key()
                .restricted_to(mock_apns::Environment::Production),
        )
        .start()
        .await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&with_token(
            &apns,
            &production_only.token(apns.clock().now_secs()),
        ))
        .await
        .unwrap();

    assert_rejected(&apns, &reply, Reason::BadEnvironmentKeyIdInToken);
}

/// a2 0.10 writes tokens in standard base64 with padding and a DER signature, and they work
/// against APNs; a mock that read only base64url refused the ~19 in 20 whose signature
/// happened to hold `+` or `/`. Each token is fresh and goes on its own connection, as a new
/// a2 client's would, so the 20-minute refresh rule does not apply.
#[tokio::test]
async fn fifty_fresh_tokens_minted_like_a2_are_all_accepted() {
    let apns = MockApns::start().await;
    let key = apns.dev_key();
    let mut with_standard_characters = 0;

    for i in 0..50 {
        let now = apns.clock().now_secs();
        let jwt = sign_like_a2(&key.to_pem(), key.key_id(), key.team_id(), now);
        let client = ApnsClient::connect(&apns).await;
        let push = Push::voip_with_token(&jwt).header("authorization", &format!("Bearer {jwt}"));
        let reply = client.send(&push).await.unwrap();

        let record = assert_accepted(&apns, &reply);
        assert_eq!(record.auth.kind, AuthKind::Token, "token {i}");
        let form = record.auth.token_form.as_deref().unwrap_or_default();
        assert!(
            form.ends_with(", padded, DER signature"),
            "token {i}: {form}"
        );
        if jwt.contains(['+', '/']) {
            with_standard_characters += 1;
            assert_eq!(form, "standard base64, padded, DER signature", "token {i}");
            let detail = record.detail.as_deref().unwrap_or_default();
            assert!(
                detail.contains("accepted a provider token in standard base64"),
                "token {i}: {detail}"
            );
        }
    }
    // Most a2 tokens hold `+` or `/` (about 19 in 20); this run must have tested them.
    assert!(
        with_standard_characters >= 25,
        "only {with_standard_characters} of 50 tokens used standard base64's own characters"
    );
}

#[tokio::test]
async fn a_token_in_no_accepted_base64_form_is_invalid_and_the_record_says_where() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let key = apns.dev_key();
    let jwt = sign_like_a2(
        &key.to_pem(),
        key.key_id(),
        key.team_id(),
        apns.clock().now_secs(),
    );
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    // base64url's `-` where a2 wrote standard base64: one segment, two alphabets.
    let mixed = format!("{input}.-+{}", &signature[2..]);

    let reply = client.send(&with_token(&apns, &mixed)).await.unwrap();

    let record = assert_rejected(&apns, &reply, Reason::InvalidProviderToken);
    let detail = record.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("JWT signature (segment 3): mixes base64url ('-' at offset 0) and standard base64 ('+' at offset 1)"),
        "{detail}"
    );
    assert!(
        !detail.contains(&signature[2..]),
        "the signature is in the detail: {detail}"
    );
}
