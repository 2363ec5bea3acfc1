//! End-to-end tests of mock-apns: real TLS + HTTP/2 clients (trusting the mock's generated CA,
//! never a disabled verifier), real client libraries and curl, and the `mock-apns` binary as a
//! process. One test binary, as ripgrep's `tests/tests.rs`, so the suite links once; one subject
//! per module, each with its purpose below.
//!
//! Run: `cargo build --workspace --bins && cargo test -p e2e` (`make test` does both).

// Shared: APNs and admin clients, raw HTTP/2 frames, pushes, JWTs, assertions, the binary,
// a headless browser.
mod support;

// The request: each reason its shape can earn, with the answer and the record agreeing.
// :method, :path and the device token: 405, 404, MissingDeviceToken, BadDeviceToken.
mod path;
// The apns-* headers: id, expiration, priority, push type, topic, collapse id, sent twice.
mod headers;
// Bodies: empty, the 4096 / 5120-byte limits, many DATA frames, 100 MB; a 200 has no body.
mod payload;
// Development vs production: apns-unique-id, device tokens of the other environment.
mod environment;
// Devices registered through the admin API: 410 + timestamp, wrong topic, strict mode.
mod devices;

// Authentication: a provider token or a client certificate.
// JWTs: missing, invalid, expired, DER, iat forms; 20-minute refresh, pinning, key environment.
mod provider_token;
// Client certificates from the mock's CA: topics, environment, stream limit, curl, foreign CA.
mod provider_certificate;

// The connection.
// TLS and Apple's host names, ALPN h2 or prior knowledge, HTTP/1.1 answered, :authority/host.
mod transport;
// SETTINGS: Apple's first values, the 1-then-1000 stream limit, throttling, refused streams.
mod settings;
// GOAWAY after an idle timeout, on a graceful stop, and on an admin API order.
mod goaway;
// Set-up deadlines (first byte, TLS, preface), the connection cap, a shutdown in bounded time.
mod limits;

// The admin API, by resource (devices and fault rules are tested with their subjects).
// /api/v1/pushes: filters, 400s naming a bad filter, the long-poll wait, clearing.
mod pushes_api;
// /api/v1/pushes in pages: limit, the after cursor, the client following pages, flat memory.
mod pushes_paging;
// /api/v1/clock: moving the clock expires provider tokens; absurd or malformed advances refused.
mod clock_api;
// /api/v1/connections: what each connection shows, from its opening to how it closed.
mod connections_api;
// /api/v1/pushes/{id}/apns: a push as the iOS Simulator's file; VoIP refused.
mod simulator_file;
// /api/v1/events: pushes as Server-Sent Events; Last-Event-ID resumes without gaps or repeats.
mod events_api;
// /api/v1/inbox, /api/v1/pushes/{id}, reasons and push types: what the web UI reads.
mod inbox_api;

// The phone side: what the pushes did on the device, never changing APNs's answer.
// Virtual phones: delivery, storage while offline, ringing calls, PushKit violations, timelines.
mod phones;
// Lint findings on VoIP pushes: each rule, counts, filters, off and deny.
mod lint;

// The admin API's request checks: Host, Origin, JSON-only writes, the warning beyond loopback.
mod admin_guard;
// No provider token's signature in a record, a log line or an admin answer, whatever was sent.
mod secrets;

// A seeded fuzz run: thousands of malformed requests, every answer shaped like Apple's.
mod wire_fuzz;
// The record file: a record that cannot be written is never acknowledged; deletion, rotation.
mod record_file;

// Failure on purpose.
// Fault rules (match + schedule + action) from the admin API, a file and Rust, seen on the wire.
mod faults;

// As users run it.
// The binary: banner curl, state dir reuse, phone and lint flags, SIGKILL durability,
// SIGINT/SIGTERM drain, errors.
mod cli;
// Starting the binary: host names in listen addresses, absolute banner paths, and each
// newcomer's mistake (port taken, state directory not writable) answered with its fix.
mod startup;
// The line per push on stderr: outcome, reason and detail; text, colour on a terminal, JSON.
mod push_log;
// GET /metrics: the counts of what was sent, parsed by Prometheus's own text-format parser.
mod metrics;
// Real client libraries (node-apn, apns2, aioapns, curl) and the CONNECT front door.
mod clients;
// The web UI in headless Chromium: live pushes, phone previews, panels, XSS, other sites, scale.
mod web_ui;
// mock-apns and harness as dependencies of a crate outside this workspace (no [patch] copied).
mod dependency;
// `cargo install --path mock-apns` / `--path harness`: the binaries run from any folder.
mod install;
