//! Real APNs client libraries against mock-apns: the compatibility matrix behind
//! `docs/clients.md`.
//!
//! Each library is installed from its registry at a pinned version by `make clients`
//! (`tests/clients/node`: `@parse/node-apn`, `apns2`; `tests/clients/python/.venv`: `aioapns`),
//! except `a2`, which cargo fetches and builds during the test (`tests/clients/a2`).
//! A test starts a mock with a state directory (so its CA and development `.p8` are files, as
//! a user has them), runs a small script that sends one push with the library the way its
//! documentation says, and asserts both what the library reported (its own result object,
//! printed as JSON) and what the mock recorded.
//!
//! For every client: a VoIP push accepted; a VoIP push to the bare bundle topic rejected
//! (`TopicDisallowed`); a token unregistered through the admin API answered 410 with its
//! timestamp; a 5121-byte VoIP payload rejected (`PayloadTooLarge`).

mod a2; // a2 (crates.io): patched to read A2_ENDPOINT and A2_CA_FILE, built once per run
mod aioapns; // aioapns (PyPI): APNS_SERVER/APNS_PORT class attributes, no ALPN
mod apns2; // apns2 (npm): always port 443, so the mock listens on 443 (needs root)
mod cases; // the four pushes every client sends, and what must follow
mod curl; // curl as Apple documents it (--connect-to), and with prior knowledge and no ALPN
mod front_door; // the CONNECT front door: clients given only HTTPS_PROXY and the CA
mod node_apn; // @parse/node-apn (npm): address, port, ca; token auth
mod support; // the mock with its files, the scripts, the admin API
