//! The environment variables that point unmodified clients at a mock: [`ClientEnv`].
//!
//! `mock-apns env` prints them for a shell; tests pass the same pairs to the clients they run.
//! The CA goes in every variable a common HTTP stack reads (OpenSSL, Node, Python requests,
//! curl), and `HTTPS_PROXY` names the CONNECT front door, so a client that keeps Apple's host
//! name reaches the mock.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

/// Which shell's syntax to print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shell {
    /// POSIX sh, bash, zsh: `export NAME='value'`.
    #[default]
    Sh,
    /// fish: `set -gx NAME 'value'`.
    Fish,
    /// PowerShell: `$env:NAME = 'value'`.
    PowerShell,
}

impl FromStr for Shell {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sh" | "bash" | "zsh" => Ok(Shell::Sh),
            "fish" => Ok(Shell::Fish),
            "powershell" | "pwsh" => Ok(Shell::PowerShell),
            other => Err(format!(
                "unknown shell {other:?}: expected sh, fish or powershell"
            )),
        }
    }
}

/// The variables a client's environment needs to trust the mock and, optionally, reach it
/// through the CONNECT front door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEnv {
    vars: Vec<(&'static str, String)>,
}

/// Variables that name the CA file, and who reads each.
const CA_VARS: &[(&str, &str)] = &[
    (
        "SSL_CERT_FILE",
        "OpenSSL's default trust store: Python's ssl, Ruby, Go on Linux",
    ),
    (
        "NODE_EXTRA_CA_CERTS",
        "Node.js, added to its built-in roots",
    ),
    ("REQUESTS_CA_BUNDLE", "Python requests and httpx"),
    ("CURL_CA_BUNDLE", "curl"),
];

impl ClientEnv {
    /// The variables for a CA file and, when the front door is on, its address.
    pub fn new(ca_file: &Path, connect_proxy: Option<SocketAddr>) -> Self {
        let ca = ca_file.display().to_string();
        let mut vars: Vec<_> = CA_VARS
            .iter()
            .map(|(name, _)| (*name, ca.clone()))
            .collect();
        if let Some(addr) = connect_proxy {
            vars.push(("HTTPS_PROXY", format!("http://{addr}")));
        }
        Self { vars }
    }

    /// Name and value of each variable, in print order.
    pub fn vars(&self) -> &[(&'static str, String)] {
        &self.vars
    }

    /// The lines to evaluate in `shell`, with a comment saying what each variable is for.
    pub fn render(&self, shell: Shell) -> String {
        let mut out = String::new();
        for (name, value) in &self.vars {
            let why = CA_VARS.iter().find(|(n, _)| n == name).map_or(
                "the CONNECT front door, for clients that keep Apple's host name",
                |(_, why)| why,
            );
            let _ = writeln!(out, "# {why}");
            let _ = writeln!(out, "{}", assignment(shell, name, value));
        }
        if !self.vars.iter().any(|(n, _)| *n == "HTTPS_PROXY") {
            let _ = writeln!(
                out,
                "# no HTTPS_PROXY: start the mock with --connect-proxy ADDR and pass the same flag here"
            );
        }
        out
    }
}

fn assignment(shell: Shell, name: &str, value: &str) -> String {
    match shell {
        Shell::Sh => format!("export {name}='{}'", value.replace('\'', r"'\''")),
        Shell::Fish => format!(
            "set -gx {name} '{}'",
            value.replace('\\', r"\\").replace('\'', r"\'")
        ),
        Shell::PowerShell => format!("$env:{name} = '{}'", value.replace('\'', "''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> ClientEnv {
        ClientEnv::new(
            Path::new("/home/o'neil/.mock-apns/ca.pem"),
            Some("127.0.0.1:2199".parse().unwrap()),
        )
    }

    #[test]
    fn every_ca_variable_names_the_file_and_the_proxy_is_an_http_url() {
        let env = env();
        let names: Vec<_> = env.vars().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "SSL_CERT_FILE",
                "NODE_EXTRA_CA_CERTS",
                "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE",
                "HTTPS_PROXY"
            ]
        );
        assert_eq!(env.vars()[4].1, "http://127.0.0.1:2199");
    }

    #[test]
    fn each_shell_quotes_a_quote_its_own_way() {
        let env = env();
        let sh = env.render(Shell::Sh);
        assert!(
            sh.contains(r"export CURL_CA_BUNDLE='/home/o'\''neil/.mock-apns/ca.pem'"),
            "{sh}"
        );
        let fish = env.render(Shell::Fish);
        assert!(
            fish.contains(r"set -gx HTTPS_PROXY 'http://127.0.0.1:2199'")
                && fish.contains(r"'/home/o\'neil/.mock-apns/ca.pem'"),
            "{fish}"
        );
        let ps = env.render(Shell::PowerShell);
        assert!(
            ps.contains("$env:SSL_CERT_FILE = '/home/o''neil/.mock-apns/ca.pem'"),
            "{ps}"
        );
    }

    #[test]
    fn without_a_front_door_the_output_says_how_to_get_one() {
        let out = ClientEnv::new(Path::new("/ca.pem"), None).render(Shell::Sh);
        assert!(!out.contains("export HTTPS_PROXY"), "{out}");
        assert!(out.contains("--connect-proxy"), "{out}");
    }

    #[test]
    fn shells_parse_by_their_usual_names() {
        assert_eq!("bash".parse::<Shell>(), Ok(Shell::Sh));
        assert_eq!("fish".parse::<Shell>(), Ok(Shell::Fish));
        assert_eq!("pwsh".parse::<Shell>(), Ok(Shell::PowerShell));
        assert!("cmd".parse::<Shell>().is_err());
    }
}
