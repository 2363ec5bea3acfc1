//! The admin listener's request checks: one gate every request passes before any route sees
//! it, the JSON API's today and the web UI's pages and event stream when they come.
//!
//! The API has no authentication (it is a test tool on loopback), yet it can read every push,
//! mount fault rules and send GOAWAY. What can reach a developer's loopback uninvited is a web
//! page in their browser, in three ways, each closed here:
//! - **A form or a "simple" request** (`text/plain`, form encodings; no preflight): a request
//!   that carries a body (POST, PUT, PATCH) must say `content-type: application/json`, which a
//!   form cannot send and a script can only send cross-origin after a CORS preflight the API
//!   never grants. DELETE needs no content type: browsers always preflight it.
//! - **A script on another origin**: a request with an `Origin` must come from the API's own
//!   origin (`http://` + its `Host`), and one a browser marks `Sec-Fetch-Site: cross-site` or
//!   `same-site` is refused (a top-level navigation excepted, so a link to a page works).
//! - **DNS rebinding** (a page whose name then resolves to 127.0.0.1 is same-origin with the
//!   API): the `Host` must be `localhost`, a loopback address, the listen address (any IP
//!   literal when listening on 0.0.0.0 or `::`: an address cannot be rebound), or a name
//!   allowed with `--admin-allow-host`. The port is not compared, so a proxy may forward.
//!
//! Clients that are not browsers (curl, the typed client, the harness) send no `Origin` and
//! no `Sec-Fetch-*`, and pass as long as they name a JSON body.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use http::{HeaderMap, Method, StatusCode};

/// Why a request was turned away: the status and a sentence for the `error` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// The checks, configured with where the listener is and which extra names reach it.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    listen: SocketAddr,
    /// `--admin-allow-host` names, lower case.
    allowed_hosts: Vec<String>,
}

impl Guard {
    pub(crate) fn new(listen: SocketAddr, allowed_hosts: &[String]) -> Self {
        Self {
            listen,
            allowed_hosts: allowed_hosts.to_vec(),
        }
    }

    /// Runs every check in order; the first failure answers.
    pub(crate) fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = self.host(headers)?;
        origin(headers, host)?;
        fetch_site(method, headers)?;
        json_body(method, headers)
    }

    /// The `Host` header, if it names this listener (see the module docs).
    fn host<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, Refusal> {
        let mut values = headers.get_all(http::header::HOST).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "a request needs exactly one Host header",
            ));
        };
        let host = value.to_str().unwrap_or_default();
        let name = host_name(host);
        if self.allows(name) {
            return Ok(host);
        }
        Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host {host:?} is not this admin API's: it answers to localhost, loopback \
                 addresses and {listen}; a name it should answer to is given with \
                 --admin-allow-host (this refusal stops DNS-rebinding attacks from web pages)",
                listen = self.listen.ip()
            ),
        ))
    }

    fn allows(&self, name: &str) -> bool {
        if name.is_empty() {
            return false;
        }
        let literal = match name.strip_prefix('[') {
            Some(bracketed) => bracketed.strip_suffix(']').map(str::parse::<Ipv6Addr>),
            None => name
                .parse::<Ipv4Addr>()
                .ok()
                .map(|v4| Ok(v4.to_ipv6_mapped())),
        };
        if let Some(parsed) = literal {
            let Ok(ip) = parsed.map(|v6| IpAddr::V6(v6).to_canonical()) else {
                return false;
            };
            let listen = self.listen.ip();
            return ip.is_loopback() || ip == listen.to_canonical() || listen.is_unspecified();
        }
        name.eq_ignore_ascii_case("localhost")
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// The name or address of a `Host` value, without its port: `[::1]:80` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// An `Origin`, when sent, must be the API's own: `http://` and the `Host` as requested.
fn origin(headers: &HeaderMap, host: &str) -> Result<(), Refusal> {
    let Some(origin) = headers.get(http::header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let own = origin
        .strip_prefix("http://")
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host));
    if own {
        return Ok(());
    }
    Err(Refusal::new(
        StatusCode::FORBIDDEN,
        format!(
            "Origin {origin:?} is not this admin API's own (http://{host}): web pages of other \
             origins may not use it"
        ),
    ))
}

/// A browser's `Sec-Fetch-Site` other than `same-origin` or `none` (typed by the user) is
/// refused, but for a top-level navigation (`Sec-Fetch-Mode: navigate`) by GET or HEAD.
fn fetch_site(method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    let site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or_default().to_ascii_lowercase());
    let Some(site) = site else { return Ok(()) };
    if site == "same-origin" || site == "none" {
        return Ok(());
    }
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"navigate"));
    if navigation && (method == Method::GET || method == Method::HEAD) {
        return Ok(());
    }
    Err(Refusal::new(
        StatusCode::FORBIDDEN,
        format!("a {site} request (Sec-Fetch-Site, from another web page's Origin) is refused"),
    ))
}

/// POST, PUT and PATCH must say `content-type: application/json` (parameters allowed).
fn json_body(method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    if !(method == Method::POST || method == Method::PUT || method == Method::PATCH) {
        return Ok(());
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("<not text>"));
    let media_type = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    let got = content_type.map_or("none".to_owned(), |c| format!("{c:?}"));
    Err(Refusal::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "{method} needs content-type: application/json (got {got}): web forms cannot send \
             it, so they cannot change the mock; with curl add -H 'content-type: application/json'"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn status(guard: &Guard, method: Method, pairs: &[(&str, &str)]) -> u16 {
        match guard.check(&method, &headers(pairs)) {
            Ok(()) => 200,
            Err(refusal) => refusal.status.as_u16(),
        }
    }

    #[test]
    fn hosts_are_loopback_the_listen_address_or_allowed_names() {
        let loopback = Guard::new("127.0.0.1:2198".parse().unwrap(), &[]);
        let lan = Guard::new("192.168.1.5:2198".parse().unwrap(), &["Mock-APNs".into()]);
        let any = Guard::new("[::]:2198".parse().unwrap(), &[]);
        for (guard, host, expected) in [
            (&loopback, "localhost:2198", 200),
            (&loopback, "127.0.0.2", 200),
            (&loopback, "[::1]:2198", 200),
            (&loopback, "[::ffff:127.0.0.1]:2198", 200),
            (&loopback, "evil.example:2198", 403),
            (&loopback, "localhost.evil.example", 403),
            (&loopback, "192.168.1.5:2198", 403),
            (&loopback, "[::1", 403),
            (&loopback, "", 403),
            (&lan, "192.168.1.5:2198", 200),
            (&lan, "mock-apns:2198", 200),
            (&lan, "192.168.1.6:2198", 403),
            (&any, "10.0.0.7:2198", 200),
            (&any, "[fe80::1]:2198", 200),
            (&any, "rebound.example:2198", 403),
        ] {
            assert_eq!(
                status(guard, Method::GET, &[("host", host)]),
                expected,
                "{host}"
            );
        }
        assert_eq!(status(&loopback, Method::GET, &[]), 400);
        let two = [("host", "localhost"), ("host", "localhost")];
        assert_eq!(status(&loopback, Method::GET, &two), 400);
    }

    #[test]
    fn only_the_apis_own_origin_and_json_bodies_change_state() {
        let guard = Guard::new("127.0.0.1:2198".parse().unwrap(), &[]);
        let host = ("host", "127.0.0.1:2198");
        let json = ("content-type", "application/json; charset=utf-8");
        for (method, pairs, expected) in [
            (Method::POST, vec![host, json], 200),
            (Method::POST, vec![host], 415),
            (
                Method::POST,
                vec![host, ("content-type", "text/plain")],
                415,
            ),
            (
                Method::PUT,
                vec![host, ("content-type", "application/json-seq")],
                415,
            ),
            (Method::DELETE, vec![host], 200),
            (
                Method::POST,
                vec![host, json, ("origin", "http://127.0.0.1:2198")],
                200,
            ),
            (
                Method::POST,
                vec![host, json, ("origin", "http://localhost:2198")],
                403,
            ),
            (Method::POST, vec![host, json, ("origin", "null")], 403),
            (
                Method::GET,
                vec![host, ("origin", "http://evil.example")],
                403,
            ),
            (
                Method::DELETE,
                vec![host, ("sec-fetch-site", "cross-site")],
                403,
            ),
            (
                Method::POST,
                vec![host, json, ("sec-fetch-site", "same-site")],
                403,
            ),
            (
                Method::GET,
                vec![host, ("sec-fetch-site", "cross-site")],
                403,
            ),
            (
                Method::GET,
                vec![
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "navigate"),
                ],
                200,
            ),
            (
                Method::POST,
                vec![
                    host,
                    json,
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "navigate"),
                ],
                403,
            ),
            (Method::GET, vec![host, ("sec-fetch-site", "none")], 200),
        ] {
            assert_eq!(
                status(&guard, method.clone(), &pairs),
                expected,
                "{method} {pairs:?}"
            );
        }
    }
}
