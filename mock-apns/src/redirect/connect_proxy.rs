//! The CONNECT front door: a small HTTP/1.1 proxy that tunnels `CONNECT api.push.apple.com:443`
//! (and the sandbox and development hosts, and port 2197) to the mock's APNs endpoint.
//!
//! Many clients hard-code Apple's host name, or its port 443, but honour a proxy. With this
//! front door such a client needs only `HTTPS_PROXY=http://<front door>` and the mock's CA:
//! it still asks for `api.sandbox.push.apple.com`, still verifies that name (the mock's
//! certificate carries it), and reaches the mock instead. Any other destination is refused
//! with `403` and a reason in words, so nothing is ever forwarded off the machine.
//!
//! One mock stands in for one environment: a tunnel to `api.push.apple.com` reaches the same
//! mock as one to `api.sandbox.push.apple.com`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::redirect::tunnels::{TunnelGuard, Tunnels};
use crate::server::listener::{Accepted, Listener};
use crate::shared::StopSignal;

/// The hosts a client may ask to be tunnelled to: Apple's production, sandbox and (older)
/// development names.
pub const APNS_HOSTS: &[&str] = &[
    "api.push.apple.com",
    "api.sandbox.push.apple.com",
    "api.development.push.apple.com",
];

/// The ports APNs listens on: 443, and 2197 for firewalls that open only APNs traffic.
pub const APNS_PORTS: &[u16] = &[443, 2197];

/// Longest request head accepted; a CONNECT head is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// A client that has not sent its request head by then is dropped.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Serves the front door until `shutdown` flips to true, with at most `max_connections`
/// tunnels open. Tunnels already open carry on until either side closes, so pushes in flight
/// are still answered.
pub(crate) async fn run(
    listener: TcpListener,
    upstream: SocketAddr,
    max_connections: usize,
    tunnels: Arc<Tunnels>,
    shutdown: StopSignal,
) {
    let upstream = reachable(upstream);
    let mut listener = Listener::new(listener, max_connections, "CONNECT front door");
    let mut stop = shutdown;
    loop {
        tokio::select! {
            Accepted { tcp, peer, permit } = listener.accept() => {
                let tunnels = tunnels.clone();
                tokio::spawn(async move {
                    serve(tcp, peer, upstream, tunnels).await;
                    drop(permit);
                });
            }
            () = stop.stopped() => break,
        }
    }
}

/// An address the front door can connect to: a wildcard listen address (`0.0.0.0`, `::`)
/// becomes the loopback address of the same family.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// One client: read its request head, then tunnel or refuse.
async fn serve(
    mut client: TcpStream,
    peer: SocketAddr,
    upstream: SocketAddr,
    tunnels: Arc<Tunnels>,
) {
    let (head, rest) = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client)).await {
        Ok(Ok(read)) => read,
        Ok(Err(refusal)) => return refuse(client, peer, &refusal).await,
        Err(_) => return tracing::info!(%peer, "CONNECT front door: no request head in time"),
    };
    let target = match parse_connect(&head) {
        Ok(target) => target,
        Err(refusal) => return refuse(client, peer, &refusal).await,
    };
    let (mut server, _registered) = match connect_upstream(upstream, &target, &tunnels).await {
        Ok(connected) => connected,
        Err(e) => {
            let refusal = Refusal::new(
                502,
                format!("mock-apns's CONNECT front door could not reach the mock's APNs endpoint at {upstream}: {e}"),
            );
            return refuse(client, peer, &refusal).await;
        }
    };
    let _ = server.set_nodelay(true);
    let _ = client.set_nodelay(true);
    tracing::debug!(%peer, %target, "CONNECT front door: tunnel to {upstream}");
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    // Bytes the client sent right after its head (an eager TLS ClientHello) go first.
    if !rest.is_empty() && server.write_all(&rest).await.is_err() {
        return;
    }
    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut server).await {
        tracing::debug!(%peer, %target, "CONNECT front door: tunnel ended: {e}");
    }
}

/// Connects to the mock's APNs port from a local address registered with the CONNECT target
/// first, so the APNs side can tell which connection this is (`redirect::tunnels`).
async fn connect_upstream(
    upstream: SocketAddr,
    target: &Target,
    tunnels: &Arc<Tunnels>,
) -> std::io::Result<(TcpStream, TunnelGuard)> {
    let socket = match upstream {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(upstream.ip(), 0))?;
    let registered = tunnels.open(socket.local_addr()?, target.to_string().into());
    let server = socket.connect(upstream).await?;
    Ok((server, registered))
}

/// Reads up to the end of the request head; returns the head and any bytes after it.
async fn read_head(client: &mut TcpStream) -> Result<(String, Vec<u8>), Refusal> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find_head_end(&buf) {
            let rest = buf.split_off(end);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(Refusal::new(
                431,
                format!("mock-apns's CONNECT front door reads request heads of at most {MAX_HEAD} bytes"),
            ));
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                return Err(Refusal::silent());
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Where the head ends (just past the blank line), if it has.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Why a request is not tunnelled: the status and a reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    /// `0`: close without an answer (the client left).
    status: u16,
    text: String,
}

impl Refusal {
    fn new(status: u16, text: impl Into<String>) -> Self {
        Self {
            status,
            text: text.into(),
        }
    }

    fn silent() -> Self {
        Self::new(0, "")
    }
}

/// The destination of an accepted CONNECT, as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

fn allowed_destinations() -> String {
    format!(
        "{} on port {}",
        APNS_HOSTS.join(", "),
        APNS_PORTS
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    )
}

/// Checks the request line: `CONNECT <APNs host>:<443|2197> HTTP/1.x`.
fn parse_connect(head: &str) -> Result<Target, Refusal> {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split_ascii_whitespace();
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        return Err(Refusal::new(
            400,
            format!("mock-apns's CONNECT front door did not understand the request line {line:?}"),
        ));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Refusal::new(
            400,
            format!("mock-apns's CONNECT front door speaks HTTP/1.x proxy requests, not {version}"),
        ));
    }
    if method != "CONNECT" {
        return Err(Refusal::new(
            405,
            format!(
                "mock-apns's CONNECT front door only opens tunnels (CONNECT) to APNs: {}. \
                 {method} {target} is not forwarded anywhere.",
                allowed_destinations()
            ),
        ));
    }
    let refused = || {
        Refusal::new(
            403,
            format!(
                "mock-apns's CONNECT front door tunnels only to APNs: {}. \
                 Refused CONNECT {target}: nothing is forwarded off this machine.",
                allowed_destinations()
            ),
        )
    };
    let (host, port) = target.rsplit_once(':').ok_or_else(refused)?;
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let port: u16 = port.parse().map_err(|_| refused())?;
    if !APNS_HOSTS.contains(&host.as_str()) || !APNS_PORTS.contains(&port) {
        return Err(refused());
    }
    Ok(Target { host, port })
}

/// Answers a refusal in words and closes; logs it, since many clients hide a proxy's answer.
async fn refuse(mut client: TcpStream, peer: SocketAddr, refusal: &Refusal) {
    if refusal.status == 0 {
        return;
    }
    tracing::warn!(%peer, status = refusal.status, "{}", refusal.text);
    let phrase = match refusal.status {
        403 => "Forbidden",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        _ => "Bad Request",
    };
    let body = format!("{}\n", refusal.text);
    let response = format!(
        "HTTP/1.1 {} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        refusal.status,
        body.len()
    );
    let _ = client.write_all(response.as_bytes()).await;
    let _ = client.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(line: &str) -> String {
        format!("{line}\r\nHost: x\r\n\r\n")
    }

    #[test]
    fn apple_hosts_on_443_and_2197_are_tunnelled() {
        for host in APNS_HOSTS {
            for port in APNS_PORTS {
                let target = parse_connect(&head(&format!("CONNECT {host}:{port} HTTP/1.1")))
                    .unwrap_or_else(|r| panic!("{host}:{port} refused: {}", r.text));
                assert_eq!((target.host.as_str(), target.port), (*host, *port));
            }
        }
    }

    #[test]
    fn host_names_are_matched_without_case_or_trailing_dot() {
        let target = parse_connect(&head("CONNECT API.Sandbox.Push.Apple.com.:443 HTTP/1.0"))
            .expect("accepted");
        assert_eq!(target.to_string(), "api.sandbox.push.apple.com:443");
    }

    #[test]
    fn other_destinations_are_refused_with_403_and_the_allowed_list() {
        for target in [
            "example.com:443",
            "api.push.apple.com:80",
            "api.push.apple.com",
            "evil.api.push.apple.com:443",
            "127.0.0.1:443",
            "[::1]:443",
        ] {
            let refusal =
                parse_connect(&head(&format!("CONNECT {target} HTTP/1.1"))).expect_err(target);
            assert_eq!(refusal.status, 403, "{target}");
            assert!(
                refusal.text.contains(target) && refusal.text.contains("api.push.apple.com"),
                "{target}: {}",
                refusal.text
            );
        }
    }

    #[test]
    fn plain_proxy_requests_are_refused_with_405() {
        let refusal =
            parse_connect(&head("GET http://api.push.apple.com/ HTTP/1.1")).expect_err("GET");
        assert_eq!(refusal.status, 405);
        assert!(
            refusal.text.contains("only opens tunnels"),
            "{}",
            refusal.text
        );
    }

    #[test]
    fn garbage_is_a_bad_request() {
        assert_eq!(parse_connect("hello\r\n\r\n").unwrap_err().status, 400);
        assert_eq!(
            parse_connect(&head("CONNECT api.push.apple.com:443 HTTP/2"))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn wildcard_upstreams_become_loopback() {
        let v4: SocketAddr = "0.0.0.0:2197".parse().unwrap();
        let v6: SocketAddr = "[::]:2197".parse().unwrap();
        let fixed: SocketAddr = "127.0.0.2:2197".parse().unwrap();
        assert_eq!(reachable(v4), "127.0.0.1:2197".parse().unwrap());
        assert_eq!(reachable(v6), "[::1]:2197".parse().unwrap());
        assert_eq!(reachable(fixed), fixed);
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(find_head_end(b"CONNECT a:1 HTTP/1.1\r\n\r\nTLS"), Some(24));
        assert_eq!(find_head_end(b"CONNECT a:1 HTTP/1.1\r\n"), None);
    }
}
