//! Certificate authentication: issuing provider certificates shaped like Apple's, and reading
//! the identity a client presents.
//!
//! Apple's push certificates carry the bundle id as the subject's UID, the allowed topics in
//! extension `1.2.840.113635.100.6.3.6`, and the environments in `…6.3.1` (development) and
//! `…6.3.2` (production) (`docs/apns.md` §5). The topic list is encoded as a
//! SEQUENCE of UTF8String topics, each followed by a SEQUENCE naming its kind (`app`, `voip`,
//! `complication`); the reader accepts any UTF8String at the top level as a topic.

use rcgen::{
    CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
};
use serde::Serialize;

use crate::apns::environment::Environment;
use crate::auth::pki::Pki;
use crate::error::{Error, TlsError};

const TOPICS_OID: &[u64] = &[1, 2, 840, 113635, 100, 6, 3, 6];
const DEVELOPMENT_OID: &[u64] = &[1, 2, 840, 113635, 100, 6, 3, 1];
const PRODUCTION_OID: &[u64] = &[1, 2, 840, 113635, 100, 6, 3, 2];
const UID_OID: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];

/// A client certificate and its private key, both PEM, as `mock-apns cert issue` writes them.
#[derive(Debug, Clone)]
pub struct ClientCert {
    /// The certificate, signed by the mock's CA.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
    /// The topics it may push to.
    pub topics: Vec<String>,
}

impl ClientCert {
    /// Writes `<name>.pem` and `<name>-key.pem` (mode 0600) into `dir`, creating it; returns
    /// both paths.
    pub fn write_to(
        &self,
        dir: &std::path::Path,
        name: &str,
    ) -> Result<(std::path::PathBuf, std::path::PathBuf), Error> {
        crate::state_dir::ensure_dir(dir)?;
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}-key.pem"));
        crate::state_dir::write_public(&cert, self.cert_pem.as_bytes())?;
        crate::state_dir::write_private(&key, self.key_pem.as_bytes())?;
        Ok((cert, key))
    }
}

/// What to put in a client certificate.
#[derive(Debug, Clone)]
pub struct ClientCertRequest {
    /// The app's bundle id: the subject UID and the first topic.
    pub bundle_id: String,
    /// Add `<bundle>.voip` to the topics (a VoIP Services certificate).
    pub voip: bool,
    /// The environment it is for; `None` for both (Apple's "universal" certificates).
    pub environment: Option<Environment>,
}

impl ClientCertRequest {
    fn topics(&self) -> Vec<(String, &'static str)> {
        let mut topics = vec![(self.bundle_id.clone(), "app")];
        if self.voip {
            topics.push((format!("{}.voip", self.bundle_id), "voip"));
        }
        topics
    }
}

impl Pki {
    /// Issues a provider (client) certificate signed by the CA, for certificate auth.
    pub fn issue_client_cert(&self, request: &ClientCertRequest) -> Result<ClientCert, Error> {
        issue(self, request)
    }
}

/// Issues a client certificate signed by the mock's CA.
fn issue(pki: &Pki, request: &ClientCertRequest) -> Result<ClientCert, Error> {
    let bundle = request.bundle_id.trim();
    if bundle.is_empty() || bundle.contains(char::is_whitespace) {
        return Err(Error::tls(TlsError::BadBundleId(bundle.to_owned())));
    }
    let (ca_params, ca_key) = pki.ca().ok_or(Error::Tls(TlsError::NoCa))?;
    let mut params = CertificateParams::default();
    let label = match request.environment {
        Some(Environment::Development) => "Apple Development IOS Push Services",
        _ => "Apple Push Services",
    };
    params
        .distinguished_name
        .push(DnType::CommonName, format!("{label}: {bundle} (mock-apns)"));
    params
        .distinguished_name
        .push(DnType::CustomDnType(UID_OID.to_vec()), bundle);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "mock-apns (not Apple)");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let topics = request.topics();
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            TOPICS_OID,
            topics_der(&topics),
        ));
    let null = vec![0x05, 0x00];
    if request.environment != Some(Environment::Production) {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                DEVELOPMENT_OID,
                null.clone(),
            ));
    }
    if request.environment != Some(Environment::Development) {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(PRODUCTION_OID, null));
    }
    let key = KeyPair::generate().map_err(Error::tls)?;
    let issuer = rcgen::Issuer::from_params(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).map_err(Error::tls)?;
    Ok(ClientCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        topics: topics.into_iter().map(|(t, _)| t).collect(),
    })
}

/// The identity a client certificate gives a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertIdentity {
    /// The subject, as text (`CN=…, UID=…`).
    pub subject: String,
    /// The subject's UID: the bundle id, the default topic of a single-topic certificate.
    pub bundle_id: Option<String>,
    /// The topics it may push to.
    pub topics: Vec<String>,
    /// The environments it is valid for.
    pub environments: Vec<Environment>,
}

impl CertIdentity {
    /// Reads the identity from a DER certificate (already verified against the CA by rustls).
    pub(crate) fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let uid_oid = x509_parser::oid_registry::Oid::from(UID_OID).ok()?;
        let bundle_id = cert
            .subject()
            .iter_by_oid(&uid_oid)
            .next()
            .and_then(|attr| attr.as_str().ok())
            .map(str::to_owned);
        let mut topics = Vec::new();
        let (mut development, mut production) = (false, false);
        for ext in cert.extensions() {
            let oid: Vec<u64> = ext
                .oid
                .iter()
                .map(|arcs| arcs.collect())
                .unwrap_or_default();
            match oid.as_slice() {
                TOPICS_OID => topics = read_topics(ext.value),
                DEVELOPMENT_OID => development = true,
                PRODUCTION_OID => production = true,
                _ => {}
            }
        }
        if topics.is_empty() {
            // Older certificates list no topics: the bundle id is the only one.
            topics.extend(bundle_id.clone());
        }
        let environments = match (development, production) {
            (true, false) => vec![Environment::Development],
            (false, true) => vec![Environment::Production],
            _ => vec![Environment::Development, Environment::Production],
        };
        Some(Self {
            subject: cert.subject().to_string(),
            bundle_id,
            topics,
            environments,
        })
    }
}

/// DER: SEQUENCE { UTF8String topic, SEQUENCE { UTF8String kind }, … }.
fn topics_der(topics: &[(String, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (topic, kind) in topics {
        body.extend(tlv(0x0c, topic.as_bytes()));
        body.extend(tlv(0x30, &tlv(0x0c, kind.as_bytes())));
    }
    tlv(0x30, &body)
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// Every UTF8String directly inside the outer SEQUENCE.
fn read_topics(der: &[u8]) -> Vec<String> {
    let Some((0x30, body, _)) = read_tlv(der) else {
        return Vec::new();
    };
    let mut topics = Vec::new();
    let mut rest = body;
    while let Some((tag, value, next)) = read_tlv(rest) {
        if tag == 0x0c {
            if let Ok(topic) = std::str::from_utf8(value) {
                topics.push(topic.to_owned());
            }
        }
        rest = next;
    }
    topics
}

/// One DER element: (tag, value, what follows). `None` on anything malformed.
fn read_tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::CertificateDer;

    #[test]
    fn an_issued_certificate_reads_back_with_its_topics_and_environment() {
        let pki = Pki::generate().unwrap();
        let request = ClientCertRequest {
            bundle_id: "com.example.app".into(),
            voip: true,
            environment: Some(Environment::Production),
        };
        let cert = issue(&pki, &request).unwrap();
        let der = CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap();
        let id = CertIdentity::from_der(&der).unwrap();
        assert_eq!(id.bundle_id.as_deref(), Some("com.example.app"));
        assert_eq!(id.topics, ["com.example.app", "com.example.app.voip"]);
        assert_eq!(id.environments, [Environment::Production]);
        assert!(id.subject.contains("com.example.app"), "{}", id.subject);
    }

    #[test]
    fn long_topic_lists_use_long_form_lengths() {
        let topics: Vec<(String, &str)> = (0..20)
            .map(|i| (format!("com.example.app{i}"), "app"))
            .collect();
        let der = topics_der(&topics);
        assert_eq!(read_topics(&der).len(), 20);
        assert!(read_topics(&der[..der.len() - 1]).is_empty() || read_topics(&der[..5]).is_empty());
    }
}
