//! Errors from setting the mock up: binding, certificates, keys, files.
//!
//! Requests never produce these: a bad push gets an APNs [`Reason`](crate::Reason) instead.

use std::path::{Path, PathBuf};

use crate::faults::RuleError;

/// Why the mock could not start or a setup call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Binding a listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A provider-token key could not be used.
    #[error("token key {key}: {message}")]
    Key {
        /// The key id or argument.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A fault rule is invalid.
    #[error("fault rules: {0}")]
    Faults(#[from] RuleError),
    /// Certificates could not be generated, loaded or issued.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
}

/// Why certificates could not be generated, loaded or issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rcgen could not generate or sign a key or certificate.
    #[error(transparent)]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate, the key or the configuration.
    #[error(transparent)]
    Config(#[from] rustls::Error),
    /// The client-certificate verifier could not be built from the CA.
    #[error(transparent)]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// A PEM file could not be read: `what` names it.
    #[error("{what}: {source}")]
    Pem {
        /// The file or the kind of object.
        what: String,
        /// What the PEM reader said.
        source: rustls_pki_types::pem::Error,
    },
    /// A key file rcgen could not read: `what` names it.
    #[error("{what}: {source}")]
    Key {
        /// The file.
        what: String,
        /// What rcgen said.
        source: rcgen::Error,
    },
    /// The certificate file holds no certificate.
    #[error("no CERTIFICATE in the certificate file")]
    NoCertificate,
    /// Client certificates need a CA the mock generated (not `--tls-cert`).
    #[error("client certificates need the mock's own CA, not --tls-cert")]
    NoCa,
    /// A client certificate was asked for with an unusable bundle id.
    #[error("{0:?} is not a bundle id")]
    BadBundleId(String),
}

impl Error {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_owned(),
            source,
        }
    }

    pub(crate) fn key(key: &str, message: impl Into<String>) -> Self {
        Error::Key {
            key: key.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn tls(e: impl Into<TlsError>) -> Self {
        Error::Tls(e.into())
    }
}
