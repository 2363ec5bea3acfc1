//! How a provider token may be written: the base64 of its three segments and the form of its
//! signature.
//!
//! JWT writes each segment in base64url without padding (RFC 7515 §2) and an ES256 signature
//! as the 64-byte R‖S (RFC 7518 §3.4). APNs also takes what widely deployed clients send
//! instead (`docs/apns.md` §5): DER signatures (Apple's own sample, Pushy) and standard base64
//! with `=` padding (a2 0.10, the most used Rust client, for all three segments). So each
//! segment may be base64url or standard base64, padded or not, and the signature raw or DER.
//! Anything else is refused, and the refusal names the segment, the character or length at
//! fault and what was expected; never the signature's content. Non-zero trailing bits are
//! tolerated, as lenient decoders (Java's `Base64`) do: Apple does not say.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// One of the three dot-separated parts of a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment {
    Header,
    Claims,
    Signature,
}

impl Segment {
    /// How refusals name it: `JWT claims (segment 2)`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Segment::Header => "JWT header (segment 1)",
            Segment::Claims => "JWT claims (segment 2)",
            Segment::Signature => "JWT signature (segment 3)",
        }
    }
}

/// What a segment may be written in, for the refusals.
const EXPECTED: &str = "base64url (A-Z a-z 0-9 - _) or standard base64 (A-Z a-z 0-9 + /), \
                        with or without = padding at the end";

/// The base64 alphabet a segment was written in, as far as its characters tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    /// Only A–Z, a–z, 0–9: both alphabets read it the same.
    Either,
    /// Has `-` or `_`.
    Url,
    /// Has `+` or `/`.
    Standard,
}

/// Decodes one segment, base64url or standard base64, with or without padding; returns the
/// bytes, the alphabet its characters show and whether it was padded.
fn decode_segment(segment: Segment, text: &str) -> Result<(Vec<u8>, Alphabet, bool), String> {
    let name = segment.label();
    if text.is_empty() {
        return Err(format!("{name}: empty; expected {EXPECTED}"));
    }
    let body_len = text.trim_end_matches('=').len();
    let pads = text.len() - body_len;
    let mut url = None;
    let mut standard = None;
    for (at, c) in text.char_indices() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => {}
            '-' | '_' => {
                url.get_or_insert((at, c));
            }
            '+' | '/' => {
                standard.get_or_insert((at, c));
            }
            '=' if at >= body_len => {}
            '=' => {
                return Err(format!(
                    "{name}: '=' at offset {at} comes before the end; padding goes only at the \
                     end ({EXPECTED})"
                ))
            }
            other => {
                return Err(format!(
                    "{name}: {other:?} at offset {at} is not a base64 character; expected \
                     {EXPECTED}"
                ))
            }
        }
    }
    let alphabet = match (url, standard) {
        (Some((i, a)), Some((j, b))) => {
            return Err(format!(
                "{name}: mixes base64url ({a:?} at offset {i}) and standard base64 ({b:?} at \
                 offset {j}); a segment uses one alphabet: {EXPECTED}"
            ))
        }
        (Some(_), None) => Alphabet::Url,
        (None, Some(_)) => Alphabet::Standard,
        (None, None) => Alphabet::Either,
    };
    if pads > 2 {
        return Err(format!(
            "{name}: ends with {pads} '='; base64 pads with at most two"
        ));
    }
    if body_len % 4 == 1 {
        return Err(format!(
            "{name}: {body_len} base64 characters, a length no byte string encodes to (4k+1): \
             a character is missing or extra"
        ));
    }
    let needed = (4 - body_len % 4) % 4;
    if pads > 0 && pads != needed {
        return Err(format!(
            "{name}: {body_len} base64 characters and {pads} '=': padding to a multiple of 4 \
             takes {needed}"
        ));
    }
    let engine = match alphabet {
        Alphabet::Standard => &STANDARD_LENIENT,
        Alphabet::Url | Alphabet::Either => &URL_SAFE_LENIENT,
    };
    let bytes = engine
        .decode(&text[..body_len])
        .map_err(|e| format!("{name}: not valid base64 ({e}); expected {EXPECTED}"))?;
    Ok((bytes, alphabet, pads > 0))
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// How an ES256 signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureForm {
    /// The 64-byte R‖S of JWS.
    Raw,
    /// An ASN.1 DER `SEQUENCE` of two `INTEGER`s (70–72 bytes for P-256).
    Der,
}

impl SignatureForm {
    /// The forms `sig` may be in, most likely first (a 64-byte DER signature is possible, if
    /// rare: short R and S). Refuses bytes that are neither, saying why (by length and
    /// structure only: never the bytes).
    pub(crate) fn candidates(sig: &[u8]) -> Result<Vec<SignatureForm>, String> {
        let der = der_structure(sig);
        match (sig.len() == 64, der) {
            (true, Ok(())) => Ok(vec![SignatureForm::Raw, SignatureForm::Der]),
            (true, Err(_)) => Ok(vec![SignatureForm::Raw]),
            (false, Ok(())) => Ok(vec![SignatureForm::Der]),
            (false, Err(why)) if sig.first() == Some(&0x30) => Err(format!(
                "{}: {} bytes that start as DER but {why}; expected the 64-byte R‖S of JWS or a \
                 DER ECDSA signature (a SEQUENCE of two INTEGERs)",
                Segment::Signature.label(),
                sig.len()
            )),
            (false, Err(_)) => Err(format!(
                "{}: {} bytes, neither the 64-byte R‖S of JWS nor a DER ECDSA signature (a \
                 SEQUENCE of two INTEGERs, 8 to 72 bytes for P-256)",
                Segment::Signature.label(),
                sig.len()
            )),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SignatureForm::Raw => "raw R‖S signature",
            SignatureForm::Der => "DER signature",
        }
    }
}

/// Checks the DER shape of an ECDSA-Sig-Value: `30 len 02 len r 02 len s`, short lengths.
fn der_structure(sig: &[u8]) -> Result<(), &'static str> {
    let [0x30, len, rest @ ..] = sig else {
        return Err("is not a DER SEQUENCE");
    };
    if usize::from(*len) != rest.len() {
        return Err("its SEQUENCE length does not match its size");
    }
    let rest = der_integer(rest)?;
    let rest = der_integer(rest)?;
    if !rest.is_empty() {
        return Err("it has bytes after its two INTEGERs");
    }
    Ok(())
}

/// Skips one DER `INTEGER` of at most 33 bytes (a P-256 scalar plus a sign byte).
fn der_integer(der: &[u8]) -> Result<&[u8], &'static str> {
    let [0x02, len, rest @ ..] = der else {
        return Err("it does not hold two INTEGERs");
    };
    let len = usize::from(*len);
    if len == 0 || len > 33 || len > rest.len() {
        return Err("it holds an INTEGER of impossible length");
    }
    Ok(&rest[len..])
}

/// How a whole token was written, for the record (`auth.token_form`) and the note on an
/// accepted push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenForm {
    /// Some segment has `-` or `_`.
    url: bool,
    /// Some segment has `+` or `/`.
    standard: bool,
    /// Some segment ends with `=`.
    padded: bool,
    signature: SignatureForm,
}

/// A decoded token: its three segments' bytes, and how they were written.
#[derive(Debug)]
pub(crate) struct DecodedToken {
    pub(crate) header: Vec<u8>,
    pub(crate) claims: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    /// The signature's possible forms, most likely first.
    pub(crate) signature_forms: Vec<SignatureForm>,
    url: bool,
    standard: bool,
    padded: bool,
}

impl DecodedToken {
    /// Decodes the three segments (split by the caller) and checks the signature's form.
    pub(crate) fn decode(header: &str, claims: &str, signature: &str) -> Result<Self, String> {
        let (header, h_alphabet, h_padded) = decode_segment(Segment::Header, header)?;
        let (claims, c_alphabet, c_padded) = decode_segment(Segment::Claims, claims)?;
        let (signature, s_alphabet, s_padded) = decode_segment(Segment::Signature, signature)?;
        let signature_forms = SignatureForm::candidates(&signature)?;
        let alphabets = [h_alphabet, c_alphabet, s_alphabet];
        Ok(Self {
            header,
            claims,
            signature,
            signature_forms,
            url: alphabets.contains(&Alphabet::Url),
            standard: alphabets.contains(&Alphabet::Standard),
            padded: h_padded || c_padded || s_padded,
        })
    }

    /// The token's form, once the signature verified in `signature` form.
    pub(crate) fn form(&self, signature: SignatureForm) -> TokenForm {
        TokenForm {
            url: self.url,
            standard: self.standard,
            padded: self.padded,
            signature,
        }
    }
}

impl TokenForm {
    /// JWS's own form: unpadded base64url, raw R‖S.
    #[cfg(test)]
    pub(crate) const JWS: TokenForm = TokenForm {
        url: false,
        standard: false,
        padded: false,
        signature: SignatureForm::Raw,
    };

    /// E.g. `base64url, unpadded, raw R‖S signature` (JWS) or `standard base64, padded, DER
    /// signature` (a2 with OpenSSL).
    pub(crate) fn describe(&self) -> String {
        let alphabet = match (self.url, self.standard) {
            (true, true) => "base64url and standard base64",
            (false, true) => "standard base64",
            _ => "base64url",
        };
        let padding = if self.padded { "padded" } else { "unpadded" };
        format!("{alphabet}, {padding}, {}", self.signature.describe())
    }

    /// Whether the segments are JWT's own unpadded base64url (whatever the signature's form).
    pub(crate) fn is_base64url(&self) -> bool {
        !self.standard && !self.padded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    fn decode(segment: Segment, text: &str) -> Result<Vec<u8>, String> {
        decode_segment(segment, text).map(|(bytes, _, _)| bytes)
    }

    /// Bytes whose encodings use `-`/`_` (base64url) or `+`/`/` (standard) and need padding.
    const BYTES: &[u8] = &[0xfb, 0xff, 0xbf, 0x01];

    #[test]
    fn each_accepted_base64_form_decodes_to_the_same_bytes() {
        for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD_NO_PAD, &STANDARD] {
            let text = engine.encode(BYTES);
            assert_eq!(decode(Segment::Claims, &text).unwrap(), BYTES, "{text}");
        }
        assert_eq!(URL_SAFE.encode(BYTES), "-_-_AQ==");
        assert_eq!(STANDARD.encode(BYTES), "+/+/AQ==");
    }

    #[test]
    fn a_character_of_neither_alphabet_is_named_with_its_segment_and_offset() {
        let err = decode(Segment::Header, "eyJh*GciOi").unwrap_err();
        assert!(
            err.starts_with("JWT header (segment 1): '*' at offset 4 is not"),
            "{err}"
        );
        assert!(err.contains("base64url (A-Z a-z 0-9 - _)"), "{err}");
        assert!(err.contains("standard base64 (A-Z a-z 0-9 + /)"), "{err}");
        let err = decode(Segment::Signature, "abc def").unwrap_err();
        assert!(err.contains("(segment 3): ' ' at offset 3"), "{err}");
    }

    #[test]
    fn mixing_the_two_alphabets_in_a_segment_is_refused() {
        let err = decode(Segment::Signature, "ab-d+fgh").unwrap_err();
        assert!(
            err.contains("mixes base64url ('-' at offset 2) and standard base64 ('+' at offset 4)"),
            "{err}"
        );
    }

    #[test]
    fn padding_must_sit_at_the_end_and_complete_a_multiple_of_four() {
        let inside = decode(Segment::Claims, "ab=cd").unwrap_err();
        assert!(
            inside.contains("'=' at offset 2 comes before the end"),
            "{inside}"
        );
        let three = decode(Segment::Claims, "a===").unwrap_err();
        assert!(three.contains("ends with 3 '='"), "{three}");
        let wrong = decode(Segment::Claims, "abc==").unwrap_err();
        assert!(wrong.contains("3 base64 characters and 2 '='"), "{wrong}");
        assert!(wrong.contains("takes 1"), "{wrong}");
        let needless = decode(Segment::Claims, "abcd=").unwrap_err();
        assert!(needless.contains("takes 0"), "{needless}");
    }

    #[test]
    fn an_impossible_length_and_an_empty_segment_are_refused() {
        let err = decode(Segment::Signature, "abcde").unwrap_err();
        assert!(err.contains("5 base64 characters"), "{err}");
        let err = decode(Segment::Header, "").unwrap_err();
        assert!(err.starts_with("JWT header (segment 1): empty"), "{err}");
    }

    #[test]
    fn trailing_bits_are_tolerated() {
        // "QR" carries 4 bits past the byte 'A' (0x41); strict decoders refuse it.
        assert_eq!(decode(Segment::Claims, "QR").unwrap(), b"A");
    }

    #[test]
    fn signatures_are_raw_or_der_and_anything_else_is_refused_by_shape() {
        assert_eq!(
            SignatureForm::candidates(&[7; 64]).unwrap(),
            [SignatureForm::Raw]
        );
        let mut der = vec![0x30, 68, 0x02, 32];
        der.extend([1; 32]);
        der.extend([0x02, 32]);
        der.extend([2; 32]);
        assert_eq!(
            SignatureForm::candidates(&der).unwrap(),
            [SignatureForm::Der]
        );
        let err = SignatureForm::candidates(&[9; 40]).unwrap_err();
        assert!(err.contains("40 bytes, neither the 64-byte R‖S"), "{err}");
        let mut truncated = der.clone();
        truncated.truncate(60);
        let err = SignatureForm::candidates(&truncated).unwrap_err();
        assert!(
            err.contains("start as DER but its SEQUENCE length"),
            "{err}"
        );
        assert!(!err.contains("[1, 1"), "never the bytes: {err}");
    }

    #[test]
    fn a_64_byte_der_signature_may_be_either_form() {
        let mut der = vec![0x30, 62, 0x02, 29];
        der.extend([1; 29]);
        der.extend([0x02, 29]);
        der.extend([2; 29]);
        assert_eq!(der.len(), 64);
        assert_eq!(
            SignatureForm::candidates(&der).unwrap(),
            [SignatureForm::Raw, SignatureForm::Der]
        );
    }

    #[test]
    fn the_form_names_alphabet_padding_and_signature() {
        let t = DecodedToken::decode("eyJh", "e30", &STANDARD.encode([0xfb; 64])).unwrap();
        assert_eq!(
            t.form(SignatureForm::Raw).describe(),
            "standard base64, padded, raw R‖S signature"
        );
        assert!(!t.form(SignatureForm::Raw).is_base64url());
        let t = DecodedToken::decode("eyJh", "e30", &URL_SAFE_NO_PAD.encode([0xfb; 64])).unwrap();
        assert_eq!(
            t.form(SignatureForm::Raw).describe(),
            "base64url, unpadded, raw R‖S signature"
        );
        assert!(t.form(SignatureForm::Raw).is_base64url());
    }
}
