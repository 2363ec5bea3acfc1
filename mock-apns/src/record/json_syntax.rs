//! Whether a body is one JSON value (RFC 8259), asked of every push to record it as JSON or as
//! text.
//!
//! It accepts exactly what `serde_json::from_str::<IgnoredAny>` accepts, which the mock used
//! before (a property test compares the two): whitespace around one value, no nesting limit,
//! any `\u` escape of four hex digits (lone surrogates too), no control character in strings.
//! It exists for speed: a push body is mostly string contents, and long strings are scanned
//! with vector instructions rather than byte by byte; serde_json took about 4 instructions per
//! byte of a 1 KiB payload, a fifth of the mock's own work per push.

/// Whether `text` is exactly one JSON value, with optional whitespace around it.
pub(crate) fn is_json(text: &str) -> bool {
    let mut p = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    p.value() && {
        p.skip_whitespace();
        p.at == p.bytes.len()
    }
}

/// The members of a JSON object, in order: each key's raw text (quotes included, escapes as
/// written) and its value's raw text. `None` unless `text` is exactly one valid JSON object
/// (whitespace around it allowed). One scan at the speed of [`is_json`]; nothing is copied.
pub(crate) fn object_members(text: &str) -> Option<Vec<(&str, &str)>> {
    let mut members = Vec::new();
    let end = container(text, b'{', |p, start| {
        // A key, a colon, a value.
        p.skip_whitespace();
        let key = p.at;
        if p.peek() != Some(b'"') || !p.string() {
            return false;
        }
        let key_end = p.at;
        p.skip_whitespace();
        if p.peek() != Some(b':') {
            return false;
        }
        p.at += 1;
        p.skip_whitespace();
        let value = p.at;
        if !p.value() {
            return false;
        }
        members.push((&start[key..key_end], &start[value..p.at]));
        true
    })?;
    (end == text.len()).then_some(members)
}

/// The elements of a JSON array, in order, as raw text; `None` unless `text` is exactly one
/// valid JSON array.
pub(crate) fn array_elements(text: &str) -> Option<Vec<&str>> {
    let mut elements = Vec::new();
    let end = container(text, b'[', |p, start| {
        p.skip_whitespace();
        let value = p.at;
        if !p.value() {
            return false;
        }
        elements.push(&start[value..p.at]);
        true
    })?;
    (end == text.len()).then_some(elements)
}

/// Reads `open`, then items with `item` separated by commas, then the closing bracket and
/// trailing whitespace; the offset reached, or `None` on a syntax error.
fn container<'t>(
    text: &'t str,
    open: u8,
    mut item: impl FnMut(&mut Parser<'t>, &'t str) -> bool,
) -> Option<usize> {
    let close = if open == b'{' { b'}' } else { b']' };
    let mut p = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    p.skip_whitespace();
    if p.peek() != Some(open) {
        return None;
    }
    p.at += 1;
    p.skip_whitespace();
    if p.peek() == Some(close) {
        p.at += 1;
    } else {
        loop {
            if !item(&mut p, text) {
                return None;
            }
            p.skip_whitespace();
            match p.peek() {
                Some(b',') => p.at += 1,
                Some(b) if b == close => {
                    p.at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    p.skip_whitespace();
    Some(p.at)
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Open containers, innermost last: one bit each (1 = object), in words as deep as needed.
#[derive(Default)]
struct Stack {
    /// The innermost 64 levels.
    bits: u64,
    depth: usize,
    /// Levels below the innermost 64, each word 64 levels, outermost first.
    spilled: Vec<u64>,
}

impl Stack {
    fn push(&mut self, object: bool) {
        if self.depth > 0 && self.depth % 64 == 0 {
            self.spilled.push(self.bits);
            self.bits = 0;
        }
        self.bits = (self.bits << 1) | u64::from(object);
        self.depth += 1;
    }

    /// Closes the innermost container (one is open).
    fn pop(&mut self) {
        self.bits >>= 1;
        self.depth -= 1;
        if self.depth > 0 && self.depth % 64 == 0 {
            self.bits = self.spilled.pop().unwrap_or_default();
        }
    }

    /// Whether the innermost open container is an object (`None`: nothing is open).
    fn top(&self) -> Option<bool> {
        (self.depth > 0).then_some(self.bits & 1 == 1)
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// One value, containers included (iteratively: no recursion, no depth limit).
    fn value(&mut self) -> bool {
        let mut open = Stack::default();
        loop {
            // A value.
            self.skip_whitespace();
            match self.peek() {
                Some(b'{') => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                    } else {
                        open.push(true);
                        if !self.key() {
                            return false;
                        }
                        continue;
                    }
                }
                Some(b'[') => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                    } else {
                        open.push(false);
                        continue;
                    }
                }
                Some(b'"') => {
                    if !self.string() {
                        return false;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    if !self.number() {
                        return false;
                    }
                }
                Some(b't') => {
                    if !self.literal(b"true") {
                        return false;
                    }
                }
                Some(b'f') => {
                    if !self.literal(b"false") {
                        return false;
                    }
                }
                Some(b'n') => {
                    if !self.literal(b"null") {
                        return false;
                    }
                }
                _ => return false,
            }
            // After a value: a comma and the next, or the ends of containers.
            loop {
                let Some(object) = open.top() else {
                    return true;
                };
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if object && !self.key() {
                            return false;
                        }
                        break;
                    }
                    Some(b'}') if object => {
                        self.at += 1;
                        open.pop();
                    }
                    Some(b']') if !object => {
                        self.at += 1;
                        open.pop();
                    }
                    _ => return false,
                }
            }
        }
    }

    /// `"key":` inside an object.
    fn key(&mut self) -> bool {
        self.skip_whitespace();
        if self.peek() != Some(b'"') || !self.string() {
            return false;
        }
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return false;
        }
        self.at += 1;
        true
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            return true;
        }
        false
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return false;
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return false;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    /// A string, from its opening quote.
    fn string(&mut self) -> bool {
        self.at += 1;
        loop {
            self.skip_plain();
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return true;
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1;
                        }
                        Some(b'u') => {
                            let hex = self.bytes.get(self.at + 1..self.at + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return false;
                            }
                            self.at += 5;
                        }
                        _ => return false,
                    }
                }
                // A control character, or the end of the text.
                _ => return false,
            }
        }
    }

    /// Skips string bytes that need no attention: not `"`, `\` or a control character.
    ///
    /// Most strings in a payload are short: up to eight words of eight bytes are tested with
    /// bit tricks, which also say where in the word the string stops. A longer string (a
    /// push's custom data) is searched for its quote or backslash with `memchr2`, which uses
    /// the CPU's widest vectors, and the bytes before it are then tested for control
    /// characters in one pass without an early exit, which the compiler turns into vector
    /// instructions: about 0.65 instructions per byte of a long string, against 0.85 when
    /// 32-byte blocks were tested for all three (callgrind, 1 KiB payload).
    fn skip_plain(&mut self) {
        for _ in 0..8 {
            let Some(word) = self.word_at(self.at) else {
                return self.skip_plain_bytes();
            };
            let special = special_bytes(word);
            if special != 0 {
                self.at += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        let rest = &self.bytes[self.at..];
        let end = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
        let span = &rest[..end];
        let control = span.iter().fold(false, |any, &b| any | (b < 0x20));
        self.at += match control {
            false => end,
            true => span.iter().position(|&b| b < 0x20).unwrap_or(end),
        };
    }

    fn word_at(&self, at: usize) -> Option<u64> {
        let word = self.bytes.get(at..at + 8)?;
        <[u8; 8]>::try_from(word).ok().map(u64::from_le_bytes)
    }

    /// The end of a short string, a byte at a time.
    fn skip_plain_bytes(&mut self) {
        while self
            .peek()
            .is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20)
        {
            self.at += 1;
        }
    }
}

/// Which of eight bytes (read little-endian) are `"`, `\` or below 0x20, as their top bits,
/// with the classic bit tricks: a byte below `n` sets its top bit in `(w - n·0x01…) & !w &
/// 0x80…`; zero bytes are those below 1. The borrow can also flag a byte above a flagged one,
/// never one below it, so the lowest bit set is the first special byte.
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & TOPS;
    let control = w.wrapping_sub(ONES * 0x20) & !w & TOPS;
    zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) | control
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde_says(text: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    }

    #[test]
    fn the_lowest_flag_is_the_first_special_byte() {
        for b in 0..=255u8 {
            let special = b == b'"' || b == b'\\' || b < 0x20;
            for at in 0..8 {
                // Plain bytes around it, and a special one after it, whose borrow must not
                // reach below.
                let mut word = [b'x'; 8];
                word[at] = b;
                if at < 7 {
                    word[7] = 0;
                }
                let flags = special_bytes(u64::from_le_bytes(word));
                let first = (flags != 0).then(|| flags.trailing_zeros() as usize / 8);
                let expected = if special {
                    Some(at)
                } else {
                    (at < 7).then_some(7)
                };
                assert_eq!(first, expected, "byte {b:#04x} at {at}");
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_edge_cases() {
        let deep_ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let deep_bad = format!("{}{}", "[".repeat(200), "]".repeat(199));
        let deep_mixed = format!("{}1{}", r#"{"a":["#.repeat(70), "]}".repeat(70));
        let cases = [
            "",
            " ",
            "{}",
            " {} ",
            "[]",
            "{",
            "}",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "\"x\"",
            "\"x",
            "\"\\u00e9\\ud800\"",
            "\"\\u00g9\"",
            "\"\\x\"",
            "\"a\tb\"",
            "\"a\u{7f}b\"",
            "\"é😀\"",
            "0",
            "-0",
            "01",
            "-",
            "1.",
            "1.5",
            ".5",
            "1e",
            "1e+",
            "1E-7",
            "-12.5e10",
            "true",
            "tru",
            "truex",
            "null",
            "nul",
            "false",
            "[true,false,null]",
            "{} {}",
            "{}x",
            "[1 2]",
            "{\"a\":{\"b\":[1,{\"c\":\"d\"}]},\"e\":[]}",
            "[[]]",
            "[{}]",
            "{\"a\":}",
            "\u{feff}{}",
            "{\"a\":1}\n",
            "\n\r\t[ 1 , 2 ]\t",
            &deep_ok,
            &deep_bad,
            &deep_mixed,
            &"\"x".repeat(3),
            &format!("\"{}\"", "y".repeat(1000)),
            &format!("\"{}\\n{}\"", "y".repeat(37), "z".repeat(15)),
            &format!("\"{}\u{1}\"", "y".repeat(40)),
        ];
        for case in cases {
            assert_eq!(is_json(case), serde_says(case), "{case:?}");
        }
    }

    /// JSON text with the odd flaw: valid values, sometimes cut short or with a byte changed.
    fn near_json() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?",
            "\"([ -!#-\\[\\]-~é]|\\\\[\"\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4}){0,24}\"",
            // Long runs of plain bytes, the path taken by a push's custom data.
            "\"[ -!#-\\[\\]-~é]{28,90}\"",
        ];
        let value = leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("\"[a-z]{0,4}\"", inner), 0..6).prop_map(|v| {
                    let fields: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("{k} : {v}")).collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        });
        (
            value,
            any::<u16>(),
            prop::sample::select(vec!['"', ',', ']', '}', '\\', '\u{1}', 'x', ' ']),
            0..4u8,
        )
            .prop_map(|(text, at, byte, flaw)| {
                let mut text = text;
                let at = usize::from(at) % (text.len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                match flaw {
                    0 => text.truncate(at),
                    1 => text.insert(at, byte),
                    _ => {}
                }
                text
            })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_on_near_json_text(text in near_json()) {
            prop_assert_eq!(is_json(&text), serde_says(&text), "{:?}", text);
        }

        #[test]
        fn members_and_elements_are_serde_json_s(text in near_json()) {
            use serde_json::value::RawValue;
            use std::collections::BTreeMap;
            let members = object_members(&text).map(|m| {
                m.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect::<Vec<_>>()
            });
            let serde = serde_json::from_str::<BTreeMap<String, &RawValue>>(&text).ok();
            prop_assert_eq!(members.is_some(), serde.is_some(), "{:?}", text);
            if let (Some(members), Some(serde)) = (members, serde) {
                let ours: BTreeMap<String, String> = members
                    .into_iter()
                    .map(|(k, v)| (serde_json::from_str::<String>(&k).unwrap(), v))
                    .collect();
                let theirs: BTreeMap<String, String> =
                    serde.into_iter().map(|(k, v)| (k, v.get().to_owned())).collect();
                prop_assert_eq!(ours, theirs);
            }
            let elements = array_elements(&text);
            let serde = serde_json::from_str::<Vec<&RawValue>>(&text).ok();
            prop_assert_eq!(
                elements,
                serde.map(|v| v.into_iter().map(RawValue::get).collect::<Vec<_>>())
            );
        }
    }
}
