//! The mock's certificates: a CA it generates once (rcgen) and a server certificate signed by
//! it, reused across starts from the state directory, or the user's own pair.
//!
//! Clients trust the CA file, never a disabled verifier. The server certificate names every
//! host a provider may be pointed at, Apple's included, so `--connect-to` and host overrides
//! keep working with hostname verification on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, TlsError};
use crate::state_dir;

/// Names the server certificate covers.
pub const SERVER_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "api.push.apple.com",
    "api.sandbox.push.apple.com",
    "api.development.push.apple.com",
];

const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
const SERVER_FILE: &str = "server.pem";
const SERVER_KEY_FILE: &str = "server-key.pem";

/// The certificates the mock serves with.
pub struct Pki {
    /// PEM of the certificate clients must trust (the CA, or the user's own certificate).
    trust_pem: String,
    /// The generated CA, able to issue more certificates; `None` with a user's own pair.
    ca: Option<(CertificateParams, KeyPair)>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("own_ca", &self.ca.is_some())
            .finish_non_exhaustive()
    }
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "mock-apns local CA");
    dn.push(DnType::OrganizationName, "mock-apns (not Apple)");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn server_cert(
    ca_params: &CertificateParams,
    ca_key: &KeyPair,
) -> Result<(String, KeyPair), Error> {
    let names: Vec<String> = SERVER_NAMES.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).map_err(Error::tls)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "mock-apns");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(Error::tls)?;
    let issuer = Issuer::from_params(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).map_err(Error::tls)?;
    Ok((cert.pem(), key))
}

impl Pki {
    /// A fresh CA and server certificate, in memory only (for tests and the library).
    pub fn generate() -> Result<Self, Error> {
        let params = ca_params();
        let ca_key = KeyPair::generate().map_err(Error::tls)?;
        let ca_pem = params.self_signed(&ca_key).map_err(Error::tls)?.pem();
        let (server_pem, server_key) = server_cert(&params, &ca_key)?;
        Self::assemble(
            ca_pem,
            Some((params, ca_key)),
            &server_pem,
            &server_key.serialize_pem(),
        )
    }

    /// Loads the CA and server certificate from `dir`, generating (and saving) them on the
    /// first start. Private keys are written with mode 0600.
    pub fn load_or_generate(dir: &Path) -> Result<Self, Error> {
        let paths = [CA_FILE, CA_KEY_FILE, SERVER_FILE, SERVER_KEY_FILE].map(|f| dir.join(f));
        if paths.iter().all(|p| p.exists()) {
            let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| Error::io(p, e));
            let ca_key = KeyPair::from_pem(&read(&paths[1])?).map_err(|source| {
                Error::tls(TlsError::Key {
                    what: paths[1].display().to_string(),
                    source,
                })
            })?;
            return Self::assemble(
                read(&paths[0])?,
                Some((ca_params(), ca_key)),
                &read(&paths[2])?,
                &read(&paths[3])?,
            );
        }
        state_dir::ensure_dir(dir)?;
        let pki = Self::generate()?;
        let Some((_, ca_key)) = &pki.ca else {
            return Err(Error::tls(TlsError::NoCa));
        };
        state_dir::write_public(&paths[0], pki.trust_pem.as_bytes())?;
        state_dir::write_private(&paths[1], ca_key.serialize_pem().as_bytes())?;
        let chain_pem: String = pki
            .chain
            .iter()
            .map(|c| crate::auth::keys::pem_encode("CERTIFICATE", c))
            .collect();
        state_dir::write_public(&paths[2], chain_pem.as_bytes())?;
        let key_pem = crate::auth::keys::pem_encode("PRIVATE KEY", pki.key.secret_der());
        state_dir::write_private(&paths[3], key_pem.as_bytes())?;
        Ok(pki)
    }

    /// The user's own certificate chain and key (`--tls-cert`, `--tls-key`); clients trust the
    /// chain's first certificate.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, Error> {
        let cert_pem = std::fs::read_to_string(cert).map_err(|e| Error::io(cert, e))?;
        let key_pem = std::fs::read_to_string(key).map_err(|e| Error::io(key, e))?;
        Self::assemble(cert_pem.clone(), None, &cert_pem, &key_pem)
    }

    fn assemble(
        trust_pem: String,
        ca: Option<(CertificateParams, KeyPair)>,
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<Self, Error> {
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| {
                Error::tls(TlsError::Pem {
                    what: "certificate PEM".into(),
                    source,
                })
            })?;
        if chain.is_empty() {
            return Err(Error::tls(TlsError::NoCertificate));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|source| {
            Error::tls(TlsError::Pem {
                what: "private key PEM".into(),
                source,
            })
        })?;
        Ok(Self {
            trust_pem,
            ca,
            chain,
            key,
        })
    }

    /// The generated CA (parameters and key), able to issue client certificates.
    pub(crate) fn ca(&self) -> Option<(&CertificateParams, &KeyPair)> {
        self.ca.as_ref().map(|(params, key)| (params, key))
    }

    /// PEM of the certificate clients must trust.
    pub fn ca_cert_pem(&self) -> &str {
        &self.trust_pem
    }

    /// Where [`Pki::load_or_generate`] keeps the CA certificate in `dir`.
    pub fn ca_path(dir: &Path) -> PathBuf {
        dir.join(CA_FILE)
    }

    /// A rustls server configuration: TLS 1.2 and 1.3, ALPN `h2` first and `http/1.1` only so
    /// an HTTP/1.1 client can be told, in words, to use HTTP/2. With the mock's own CA, a client
    /// certificate is optional but, when presented, must be issued by that CA (certificate
    /// auth); anything else fails the handshake.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(Error::tls)?;
        let builder = match &self.ca {
            None => builder.with_no_client_auth(),
            Some(_) => {
                let mut roots = rustls::RootCertStore::empty();
                for der in CertificateDer::pem_slice_iter(self.trust_pem.as_bytes()) {
                    let der = der.map_err(|source| {
                        Error::tls(TlsError::Pem {
                            what: "CA certificate PEM".into(),
                            source,
                        })
                    })?;
                    roots.add(der).map_err(Error::tls)?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .allow_unauthenticated()
                .build()
                .map_err(Error::tls)?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(Error::tls)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_certificates_are_reused_and_keys_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = Pki::load_or_generate(dir.path()).unwrap();
        let second = Pki::load_or_generate(dir.path()).unwrap();
        assert_eq!(first.ca_cert_pem(), second.ca_cert_pem());
        assert_eq!(first.chain, second.chain);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for f in [CA_KEY_FILE, SERVER_KEY_FILE] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
        assert!(second.server_config().is_ok());
    }
}
