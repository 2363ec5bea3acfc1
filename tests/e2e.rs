//! End-to-end tests of mock-apns: real TLS + HTTP/2 clients (trusting the mock's generated CA,
//! never a disabled verifier), real client libraries and curl, and the `mock-apns` binary as a
//! process. One test binary, as ripgrep's `tests/tests.rs`, so the suite links once.
//!
//! Run: `cargo build --workspace --bins && cargo test -p e2e` (`make test` does both).

// Shared clients (h2 + rustls, admin API, raw frames), push builder, JWT crafting, assertions,
// the binary as a child process.
mod support;

// Validation: each reason a request's shape can earn, with the record agreeing.
// Certificate auth: client certificates from the mock's CA, their topics and environment, curl
// with --cert, a foreign CA refused at the handshake.
mod provider_certificate;
// Registered devices via the admin API: 410 + timestamp, wrong topic, strict mode.
mod devices;
// Development vs production: apns-unique-id, tokens of the other environment.
mod environment;
// apns-id, expiration, priority, push type, topic, collapse id, repeated headers.
mod headers;
// :method, :path and the device token: 405, 404, MissingDeviceToken, BadDeviceToken.
mod path;
// Empty and oversized bodies (4096 / 5120 limits), chunked bodies, success shape, and a 100 MB
// body answered 413 in milliseconds with the binary's memory flat.
mod payload;
// JWT auth: missing, invalid, expired (mock clock), DER signatures, iat forms, and the
// per-connection rules (20-minute refresh, team and key pinning, environment-limited keys).
mod provider_token;

// Transport.
// TLS and its host names, ALPN h2, prior knowledge, HTTP/1.1 and plain text answered in words, :authority and host.
mod transport;
// GOAWAY after an idle timeout, on a graceful stop, and on an admin API order.
mod goaway;

// SETTINGS: Apple's first values, the 1-then-1000 stream limit, throttling, refused streams.
mod settings;
// The connection list: id, peer, ALPN, auth, counters, stream limit, how it closed.
mod connections_api;

// Failure on purpose.
// Fault rules (match + schedule + action) from the admin API, a file and Rust, seen on the wire.
mod faults;

// Tools.
// The record of pushes: filters, long-poll wait, clearing.
mod pushes_api;
// Moving the mock's clock: provider tokens expire; a malformed request is refused.
mod clock_api;
// The binary: banner curl, state dir reuse, SIGKILL durability, SIGINT drain, start-up errors.
mod cli;
// Real client libraries (node-apn, apns2, aioapns, curl) and the CONNECT front door.
mod clients;
