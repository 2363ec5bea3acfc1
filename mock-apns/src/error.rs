//! Errors from setting the mock up: binding, certificates, keys, files.
//!
//! Requests never produce these: a bad push gets an APNs [`Reason`](crate::Reason) instead.

use std::path::{Path, PathBuf};

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
    Faults(String),
    /// Certificates could not be generated or loaded.
    #[error("TLS: {0}")]
    Tls(String),
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

    pub(crate) fn tls(message: impl std::fmt::Display) -> Self {
        Error::Tls(message.to_string())
    }
}
