//! Listen addresses as users write them: `127.0.0.1:2197`, `[::1]:2197`, or a host name such
//! as `localhost:2197` (the README and the banner say `localhost`).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs as _};

/// A listen address: what was given, and the socket address it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListenAddr {
    /// As written on the command line or in the environment.
    pub(crate) given: String,
    pub(crate) addr: SocketAddr,
}

impl ListenAddr {
    /// `127.0.0.1:2197`, or `localhost:2197 (127.0.0.1:2197)` when a name was resolved.
    pub(crate) fn describe(&self) -> String {
        if self.given == self.addr.to_string() {
            self.given.clone()
        } else {
            format!("{} ({})", self.given, self.addr)
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.given)
    }
}

/// clap's parser for `--listen`, `--admin-listen` and `--connect-proxy`.
///
/// `localhost` is always 127.0.0.1, without asking the resolver: some machines list `::1`
/// first, or nothing at all, and the mock's certificate and banner assume IPv4 loopback. Other
/// names are resolved, preferring an IPv4 address.
pub(crate) fn parse(value: &str) -> Result<ListenAddr, String> {
    let given = value.trim().to_owned();
    if let Ok(addr) = given.parse::<SocketAddr>() {
        return Ok(ListenAddr { given, addr });
    }
    let Some((host, port)) = given.rsplit_once(':') else {
        return Err(format!(
            "{given:?} has no port: write HOST:PORT, e.g. 127.0.0.1:2197 or localhost:2197"
        ));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number (0-65535; 0 picks a free one)"))?;
    if host.eq_ignore_ascii_case("localhost") {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        return Ok(ListenAddr { given, addr });
    }
    if host.is_empty() {
        return Err(format!(
            "{given:?} has no host: write e.g. 127.0.0.1:{port} (loopback) or 0.0.0.0:{port} \
             (every interface)"
        ));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host {host:?}: {e}"))?
        .collect();
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("host {host:?} has no address"))?;
    Ok(ListenAddr { given, addr })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_localhost_parse_to_socket_addresses() {
        let parsed = parse("localhost:2197").unwrap();
        assert_eq!(parsed.addr, "127.0.0.1:2197".parse().unwrap());
        assert_eq!(parsed.describe(), "localhost:2197 (127.0.0.1:2197)");
        assert_eq!(
            parse("LOCALHOST:0").unwrap().addr,
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse("[::1]:2197").unwrap().addr,
            "[::1]:2197".parse().unwrap()
        );
        assert_eq!(
            parse("127.0.0.1:2197").unwrap().describe(),
            "127.0.0.1:2197"
        );
    }

    #[test]
    fn a_bad_address_says_what_to_write() {
        let no_port = parse("localhost").unwrap_err();
        assert!(
            no_port.contains("no port") && no_port.contains("localhost:2197"),
            "{no_port}"
        );
        let bad_port = parse("localhost:99999").unwrap_err();
        assert!(bad_port.contains("not a port number"), "{bad_port}");
        let no_host = parse(":2197").unwrap_err();
        assert!(no_host.contains("no host"), "{no_host}");
        let unknown = parse("no-such-host.invalid:2197").unwrap_err();
        assert!(unknown.contains("cannot resolve host"), "{unknown}");
    }
}
