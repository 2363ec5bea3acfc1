//! Provider tokens the way real providers build them, independently of the mock's own minting:
//! signed here with ring from the key's `.p8` PEM, with the claims a test chooses, and with the
//! signature re-encoded as DER (what Java providers and Apple's own sample send).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::PrivatePkcs8KeyDer;

/// The P-256 key in a `.p8` PEM, and the randomness ECDSA signing needs.
fn key_pair(pem: &str) -> (EcdsaKeyPair, SystemRandom) {
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).expect("a PKCS#8 .p8 PEM");
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        der.secret_pkcs8_der(),
        &rng,
    )
    .expect("a P-256 key");
    (pair, rng)
}

/// Signs `<header>.<claims>` (both JSON text) with the P-256 `.p8` key in `pem`; the
/// signature is the JWS-standard 64-byte R‖S.
pub(crate) fn sign(pem: &str, header: &str, claims: &str) -> String {
    let (pair, rng) = key_pair(pem);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = pair.sign(&rng, input.as_bytes()).expect("signing works");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// A token the way a2 0.10 mints it with its default OpenSSL signer (`src/signer.rs`): header
/// `{"alg":"ES256","kid":…}` and claims `{"iss":…,"iat":…}` in standard base64 with `=`
/// padding, and the DER signature of that text in standard base64 too.
pub(crate) fn sign_like_a2(pem: &str, key_id: &str, team_id: &str, iat: u64) -> String {
    let (pair, rng) = key_pair(pem);
    let input = format!(
        "{}.{}",
        STANDARD.encode(format!(r#"{{"alg":"ES256","kid":"{key_id}"}}"#)),
        STANDARD.encode(format!(r#"{{"iss":"{team_id}","iat":{iat}}}"#))
    );
    let sig = pair.sign(&rng, input.as_bytes()).expect("signing works");
    format!("{input}.{}", STANDARD.encode(raw_to_der(sig.as_ref())))
}

/// The same token with its raw R‖S signature re-encoded as an ASN.1 DER `SEQUENCE` of two
/// `INTEGER`s (70–72 bytes).
pub(crate) fn with_der_signature(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').expect("a JWT has dots");
    let raw = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw_to_der(&raw)))
}

/// The signature's length in bytes once decoded.
pub(crate) fn signature_len(token: &str) -> usize {
    let sig = token.rsplit('.').next().expect("a JWT has dots");
    URL_SAFE_NO_PAD
        .decode(sig)
        .expect("base64url signature")
        .len()
}

/// The same token with one bit of its signature flipped.
pub(crate) fn with_corrupt_signature(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').expect("a JWT has dots");
    let mut raw = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
    raw[10] ^= 0x01;
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw))
}

/// ECDSA (r, s) as 64 bytes R‖S → DER.
fn raw_to_der(raw: &[u8]) -> Vec<u8> {
    assert_eq!(raw.len(), 64, "a P-256 R||S signature is 64 bytes");
    let (r, s) = raw.split_at(32);
    let (r, s) = (der_integer(r), der_integer(s));
    let mut der = vec![0x30, (r.len() + s.len()) as u8];
    der.extend(r);
    der.extend(s);
    der
}

/// An unsigned big-endian integer as a DER `INTEGER`: leading zeros dropped, one 0x00 put back
/// when the top bit is set (DER integers are signed).
fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut value = bytes[first..].to_vec();
    if value[0] & 0x80 != 0 {
        value.insert(0, 0);
    }
    let mut out = vec![0x02, value.len() as u8];
    out.extend(value);
    out
}

#[test]
fn der_integers_are_minimal_and_positive() {
    assert_eq!(der_integer(&[0, 0, 0x7f]), [0x02, 1, 0x7f]);
    assert_eq!(der_integer(&[0, 0x80]), [0x02, 2, 0x00, 0x80]);
    assert_eq!(der_integer(&[0, 0]), [0x02, 1, 0x00]);
}
