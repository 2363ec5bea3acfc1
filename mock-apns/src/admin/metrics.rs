//! `GET /metrics`: the Prometheus scrape endpoint, on the admin listener beside the JSON API
//! (outside `/api/v1/`, where Prometheus looks by default).

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};

use super::plumbing::Reply;
use crate::shared::Shared;
use crate::telemetry::metrics::CONTENT_TYPE;

/// The metrics in the Prometheus text format.
pub(super) fn scrape(shared: &Shared) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(shared.render_metrics())).boxed());
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
