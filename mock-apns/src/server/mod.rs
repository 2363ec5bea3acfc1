//! The APNs endpoint: accepting under a cap with back-off, the accept loop, one task per connection (TLS, HTTP/2, SETTINGS, GOAWAY),
//! what is known of each connection, and the handling of one stream (one push).

pub(crate) mod accept;
pub(crate) mod bound;
pub(crate) mod connection_state;
pub(crate) mod connection_task;
pub(crate) mod listener;
pub(crate) mod rewind;
pub(crate) mod stream;
