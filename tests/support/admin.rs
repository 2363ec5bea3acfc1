//! The admin API in tests: the library's typed client ([`mock_apns::admin::Client`]), each
//! request bounded by the suite's [`PATIENCE`], and its errors turned into test failures that
//! read as the client wrote them (method, path, status and the API's own message).

use mock_apns::admin::{Client, ClientError};
use mock_apns::MockApns;

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
