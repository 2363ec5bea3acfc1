//! What a web page of another site may not do with the admin listener, now that it serves a UI
//! to browsers: drive the mock (add a fault rule, clear the record) or read it (the event stream,
//! the record), by a cross-site request or through DNS rebinding.
//!
//! Three checks, before any route runs:
//! 1. **Host** (DNS rebinding): a page on `evil.example` whose name later resolves to 127.0.0.1
//!    is same-origin with itself, so only the `Host` header gives it away. On a loopback
//!    listener the host must be an IP address, `localhost` or a `*.localhost` name; a listener
//!    bound elsewhere on purpose (a container, `--admin-listen 0.0.0.0:2198`) is reached by
//!    whatever names the network gives it, so any host is taken there.
//! 2. **Origin** (cross-site requests) on `/api/`: browsers send it with every cross-origin
//!    request and every POST, PUT and DELETE; when present it must be this listener's own
//!    `http://<Host>`.
//! 3. **Sec-Fetch-Site** on `/api/`: browsers send it with every request, including the no-cors
//!    ones that carry no `Origin` (an `<img>` or `<script>` pointed at the event stream); when
//!    present it must be `same-origin` or `none` (typed in the address bar).
//!
//! Scripts and tools (curl, the typed client, a provider's tests) send neither `Origin` nor
//! `Sec-Fetch-Site`, so only the host check applies to them.

use std::net::{IpAddr, SocketAddr};

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, StatusCode};

use super::plumbing::{error, Reply};

/// Refuses (403, saying why; boxed: answers are large) a request a page of another site could have made; `listener` is
/// the admin listener's own address.
pub(super) fn check(
    path: &str,
    headers: &HeaderMap,
    listener: Option<SocketAddr>,
) -> Result<(), Box<Reply>> {
    let refuse = |why: String| Err(Box::new(error(StatusCode::FORBIDDEN, why)));
    let host = headers.get(HOST).map(|h| h.to_str().unwrap_or("\u{fffd}"));
    if let Some(host) = host {
        let on_loopback = listener.is_none_or(|a| a.ip().is_loopback());
        if on_loopback && !is_local_host(host) {
            return refuse(format!(
                "Host {host:?} is not a loopback name: the admin listener answers only to \
                 IP addresses and localhost (a DNS-rebinding guard); open it as \
                 http://127.0.0.1:<port>/ or http://localhost:<port>/"
            ));
        }
    }
    if !path.starts_with("/api/") {
        return Ok(());
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("\u{fffd}");
        let own = host.map(|h| format!("http://{h}"));
        if !own.is_some_and(|own| own.eq_ignore_ascii_case(origin)) {
            return refuse(format!(
                "a page of another origin ({origin}) may not use the admin API"
            ));
        }
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("\u{fffd}");
        if !matches!(site, "same-origin" | "none") {
            return refuse(format!(
                "a {site} request from a browser may not use the admin API"
            ));
        }
    }
    Ok(())
}

/// `127.0.0.1:2198`, `[::1]:2198`, `localhost:2198`, `ui.localhost`, … (any port).
fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6]:port
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<IpAddr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: Option<SocketAddr> = Some(SocketAddr::new(
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        2198,
    ));

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    fn refused(path: &str, pairs: &[(&'static str, &str)], listener: Option<SocketAddr>) -> bool {
        check(path, &headers(pairs), listener).is_err()
    }

    #[test]
    fn scripts_on_loopback_names_and_addresses_pass() {
        for host in [
            "127.0.0.1:2198",
            "localhost:2198",
            "[::1]:2198",
            "ui.localhost",
            "LOCALHOST.",
        ] {
            assert!(
                !refused("/api/v1/pushes", &[("host", host)], LOOPBACK),
                "{host}"
            );
        }
        assert!(
            !refused("/api/v1/pushes", &[], LOOPBACK),
            "HTTP/1.0, no Host"
        );
    }

    #[test]
    fn a_rebound_dns_name_is_refused_on_a_loopback_listener_only() {
        let rebound = [
            ("host", "evil.example:2198"),
            ("origin", "http://evil.example:2198"),
        ];
        assert!(refused("/api/v1/faults", &rebound, LOOPBACK));
        assert!(refused("/", &rebound[..1], LOOPBACK), "the page too");
        let exposed = Some(SocketAddr::from(([0, 0, 0, 0], 2198)));
        assert!(!refused(
            "/api/v1/faults",
            &[("host", "mock-apns:2198")],
            exposed
        ));
    }

    #[test]
    fn another_origin_or_a_cross_site_fetch_is_refused_on_the_api() {
        let host = ("host", "127.0.0.1:2198");
        assert!(refused(
            "/api/v1/faults",
            &[host, ("origin", "http://localhost:3000")],
            LOOPBACK
        ));
        assert!(refused(
            "/api/v1/faults",
            &[host, ("origin", "null")],
            LOOPBACK
        ));
        assert!(refused(
            "/api/v1/events",
            &[host, ("sec-fetch-site", "cross-site")],
            LOOPBACK
        ));
        assert!(refused(
            "/api/v1/events",
            &[host, ("sec-fetch-site", "same-site")],
            LOOPBACK
        ));
        let own = [
            host,
            ("origin", "http://127.0.0.1:2198"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(!refused("/api/v1/faults", &own, LOOPBACK));
        assert!(!refused(
            "/api/v1/pushes",
            &[host, ("sec-fetch-site", "none")],
            LOOPBACK
        ));
        let link = [host, ("sec-fetch-site", "cross-site")];
        assert!(
            !refused("/", &link, LOOPBACK),
            "a link to the UI from elsewhere opens it"
        );
    }
}
