//! What the mock tells whoever runs it, besides the record: a log line per push and
//! Prometheus metrics (served by the admin API at `GET /metrics`).

pub(crate) mod metrics;
pub(crate) mod push_log;
