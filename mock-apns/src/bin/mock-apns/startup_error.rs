//! Start-up errors that say what to do: each names the setting (flag and environment twin),
//! the value, the OS error once, and the likely fix on an indented line below.

use std::io::ErrorKind;
use std::path::Path;

use mock_apns::Error;

use crate::cli::Args;
use crate::listen_addr::ListenAddr;

/// A flag; its environment twin is derived the way `cli.rs` names them all (`--admin-listen`
/// is `MOCK_APNS_ADMIN_LISTEN`).
#[derive(Debug, Clone, Copy)]
struct Setting {
    flag: &'static str,
}

const fn setting(flag: &'static str) -> Setting {
    Setting { flag }
}

const LISTEN: Setting = setting("--listen");
const ADMIN_LISTEN: Setting = setting("--admin-listen");
const CONNECT_PROXY: Setting = setting("--connect-proxy");
const STATE_DIR: Setting = setting("--state-dir");
const RECORD: Setting = setting("--record");
const TLS_CERT: Setting = setting("--tls-cert");
const TLS_KEY: Setting = setting("--tls-key");

impl Setting {
    fn env(self) -> String {
        let name = self.flag.trim_start_matches('-');
        format!("MOCK_APNS_{}", name.replace('-', "_").to_ascii_uppercase())
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} or {}", self.flag, self.env())
    }
}

/// The listeners, in the order the mock binds them.
fn listeners(args: &Args) -> Vec<(&ListenAddr, Setting, &'static str)> {
    let mut all = vec![
        (&args.listen, LISTEN, "the APNs endpoint"),
        (&args.admin_listen, ADMIN_LISTEN, "the admin API"),
    ];
    if let Some(proxy) = &args.connect_proxy {
        all.push((proxy, CONNECT_PROXY, "the CONNECT front door"));
    }
    all
}

/// Two listeners on one address: the second bind would fail with "address in use" and the
/// message could not say which flag to change, so this is refused before binding.
pub(crate) fn check_distinct_listeners(args: &Args) -> anyhow::Result<()> {
    let all = listeners(args);
    for (i, (a, a_setting, _)) in all.iter().enumerate() {
        for (b, b_setting, _) in &all[i + 1..] {
            if a.addr == b.addr && a.addr.port() != 0 {
                anyhow::bail!(
                    "{} {} and {} {} are the same address: each listener needs its own port\n  \
                     e.g. --listen 127.0.0.1:2197 --admin-listen 127.0.0.1:2198 (port 0 picks a \
                     free one)",
                    a_setting.flag,
                    a.describe(),
                    b_setting.flag,
                    b.describe(),
                );
            }
        }
    }
    Ok(())
}

/// Explains a library error in terms of the flags that caused it.
pub(crate) fn explain(error: Error, args: &Args) -> anyhow::Error {
    match &error {
        Error::Bind { addr, source } => {
            let found = listeners(args)
                .into_iter()
                .find(|(listen, _, _)| listen.addr.to_string() == *addr);
            match found {
                Some((listen, setting, what)) => bind_failure(listen, setting, what, source),
                None => error.into(),
            }
        }
        Error::Io { path, source } => {
            if path.starts_with(&args.state_dir) {
                state_dir_failure(&args.state_dir, path, source)
            } else if Some(path) == args.record.as_ref() {
                let hint = format!(
                    "its folder must exist and be writable; or choose another file with {RECORD}"
                );
                file_failure(
                    "cannot open the record file",
                    path,
                    RECORD,
                    source,
                    Some(hint),
                )
            } else if Some(path) == args.tls_cert.as_ref() {
                file_failure("cannot read the certificate", path, TLS_CERT, source, None)
            } else if Some(path) == args.tls_key.as_ref() {
                file_failure("cannot read the private key", path, TLS_KEY, source, None)
            } else {
                error.into()
            }
        }
        _ => error.into(),
    }
}

fn bind_failure(
    listen: &ListenAddr,
    setting: Setting,
    what: &str,
    source: &std::io::Error,
) -> anyhow::Error {
    let head = format!(
        "cannot listen on {} for {what} ({setting}): {source}",
        listen.describe()
    );
    let port = listen.addr.port();
    let hint = match source.kind() {
        ErrorKind::AddrInUse => Some(format!(
            "another mock-apns (or another program) is already listening there: stop it, or \
             choose another port with {setting} ({host}:0 picks a free one)",
            host = listen.addr.ip(),
        )),
        ErrorKind::PermissionDenied if port < 1024 => Some(format!(
            "ports below 1024 need root, or once: sudo setcap cap_net_bind_service=+ep \
             \"$(command -v mock-apns)\"; or choose a port above 1023 with {setting}, or use \
             --connect-proxy for clients that honour HTTPS_PROXY"
        )),
        ErrorKind::AddrNotAvailable => Some(format!(
            "{} is not an address of this machine: use 127.0.0.1 (loopback only) or 0.0.0.0 \
             (every interface) with {setting}",
            listen.addr.ip()
        )),
        _ => None,
    };
    with_hint(head, hint)
}

fn state_dir_failure(dir: &Path, path: &Path, source: &std::io::Error) -> anyhow::Error {
    let (problem, hint) = match source.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => (
            "is not writable",
            format!(
                "the mock keeps its CA, server certificate and development key there: make it \
                 writable, or choose another directory with {STATE_DIR}"
            ),
        ),
        ErrorKind::NotADirectory | ErrorKind::AlreadyExists => (
            "is not a directory",
            format!("a file is in the way: choose another directory with {STATE_DIR}"),
        ),
        _ => (
            "cannot be used",
            format!("choose another directory with {STATE_DIR}"),
        ),
    };
    let head = format!(
        "the state directory {} ({STATE_DIR}) {problem}: {}: {source}",
        absolute(dir),
        absolute(path)
    );
    with_hint(head, Some(hint))
}

/// A file named by a flag could not be used.
fn file_failure(
    what: &str,
    path: &Path,
    setting: Setting,
    source: &std::io::Error,
    hint: Option<String>,
) -> anyhow::Error {
    let head = format!("{what} {} ({setting}): {source}", absolute(path));
    with_hint(head, hint)
}

fn with_hint(head: String, hint: Option<String>) -> anyhow::Error {
    match hint {
        Some(hint) => anyhow::anyhow!("{head}\n  {hint}"),
        None => anyhow::anyhow!("{head}"),
    }
}

/// The path from `/`, as a message read elsewhere (a CI log) must say.
pub(crate) fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn each_setting_names_the_environment_twin_its_flag_has() {
        let command = crate::cli::Cli::command();
        for setting in [
            LISTEN,
            ADMIN_LISTEN,
            CONNECT_PROXY,
            STATE_DIR,
            RECORD,
            TLS_CERT,
            TLS_KEY,
        ] {
            let long = setting.flag.trim_start_matches('-');
            let arg = command
                .get_arguments()
                .find(|a| a.get_long() == Some(long))
                .unwrap_or_else(|| panic!("{} is a flag", setting.flag));
            let env = arg.get_env().and_then(|e| e.to_str());
            assert_eq!(env, Some(setting.env().as_str()), "{}", setting.flag);
        }
    }
}
