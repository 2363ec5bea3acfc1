//! `mock-apns env`: the environment lines that point unmodified clients at the mock.

use anyhow::{Context as _, Result};
use mock_apns::Pki;
use mock_apns::{ClientEnv, Shell};

use crate::cli::EnvArgs;

/// `mock-apns env`: the CA file (created on first use, like the server does) and the front
/// door's address as shell lines.
pub(crate) fn print(args: &EnvArgs) -> Result<()> {
    print!("{}", env_lines(args)?);
    Ok(())
}

pub(crate) fn env_lines(args: &EnvArgs) -> Result<String> {
    let ca = match &args.tls_cert {
        Some(cert) => cert.clone(),
        None => {
            Pki::load_or_generate(&args.state_dir)?;
            Pki::ca_path(&args.state_dir)
        }
    };
    let ca = std::fs::canonicalize(&ca).with_context(|| format!("{}", ca.display()))?;
    let shell: Shell = args.shell.parse().map_err(anyhow::Error::msg)?;
    let proxy = args.connect_proxy.as_ref().map(|p| p.addr);
    Ok(ClientEnv::new(&ca, proxy).render(shell))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    #[test]
    fn env_creates_the_ca_and_prints_its_absolute_path_and_the_front_door() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let cli = Cli::try_parse_from([
            "mock-apns",
            "env",
            "--shell",
            "fish",
            "--state-dir",
            state.to_str().unwrap(),
            "--connect-proxy",
            "127.0.0.1:2199",
        ])
        .unwrap();
        let Some(Command::Env(env)) = &cli.command else {
            panic!("parsed as {cli:?}");
        };

        let text = env_lines(env).unwrap();

        let ca = state
            .join("ca.pem")
            .canonicalize()
            .expect("the CA was created");
        for name in [
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
        ] {
            let line = format!("set -gx {name} '{}'", ca.display());
            assert!(text.contains(&line), "no {line:?} in:\n{text}");
        }
        assert!(
            text.contains("set -gx HTTPS_PROXY 'http://127.0.0.1:2199'"),
            "{text}"
        );
    }

    #[test]
    fn serving_flags_still_parse_without_a_subcommand() {
        let cli = Cli::try_parse_from(["mock-apns", "--connect-proxy", "127.0.0.1:2199"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.serve.connect_proxy.map(|p| p.addr),
            Some("127.0.0.1:2199".parse().unwrap())
        );
    }
}
