//! The admin API in tests: the library's typed client ([`mock_apns::admin::Client`]), each
//! request bounded by the suite's [`PATIENCE`], and its errors turned into test failures that
//! read as the client wrote them (method, path, status and the API's own message).

use http::Method;
use mock_apns::admin::{Client, ClientError};
use mock_apns::MockApns;
use serde_json::Value;

use super::PATIENCE;

/// The admin client of `apns`.
pub(crate) fn admin(apns: &MockApns) -> Client {
    admin_at(&apns.admin_uri())
}

/// The admin client of the API at `url` (`http://host:port`), e.g. a binary's banner's.
pub(crate) fn admin_at(url: &str) -> Client {
    match Client::new(url) {
        Ok(client) => client.with_timeout(PATIENCE),
        Err(e) => panic!("{e}"),
    }
}

/// `GET path` as it comes, status and JSON, for the answers the typed client has no type for
/// (errors, the web UI's own resources). The query strings are the API's own words.
pub(crate) async fn get(admin: &Client, path: &str) -> (u16, Value) {
    let answer = admin.send(Method::GET, path, None).await.or_fail();
    (answer.status, answer.json())
}

/// The message of an error answer's body (`{"error": "..."}`); empty when there is none, so
/// a check that it names something fails.
pub(crate) fn error_of(body: &Value) -> String {
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// Unwraps an admin answer: an error fails the test with its own text, at the caller's line.
pub(crate) trait OrFail<T> {
    /// The answer, or a panic saying why there is none.
    fn or_fail(self) -> T;
}

impl<T> OrFail<T> for Result<T, ClientError> {
    #[track_caller]
    fn or_fail(self) -> T {
        match self {
            Ok(answer) => answer,
            Err(e) => panic!("{e}"),
        }
    }
}
