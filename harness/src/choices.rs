//! Values from a closed set (Apple's reasons and push types, the step kinds): parsed with a
//! message that names the nearest valid choice and lists them all, so a typo in a scenario
//! says its own fix (`"Unregisterd"` → did you mean `"Unregistered"`?).

use mock_apns::{PushType, Reason};
use serde::{Deserialize, Deserializer};

/// An Apple reason string, or a message listing them.
pub(crate) fn reason(text: &str) -> Result<Reason, String> {
    text.parse::<Reason>().map_err(|_| {
        let all: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        unknown("APNs reason", text, &all)
    })
}

/// An `apns-push-type` value, or a message listing them.
pub(crate) fn push_type(text: &str) -> Result<PushType, String> {
    text.parse::<PushType>().map_err(|_| {
        let all: Vec<&str> = PushType::ALL.iter().map(|t| t.as_str()).collect();
        unknown("apns-push-type", text, &all)
    })
}

/// `unknown <what> "<text>" (did you mean "<nearest>"?); one of "a", "b", …`.
pub(crate) fn unknown(what: &str, text: &str, choices: &[&str]) -> String {
    let hint = nearest(text, choices)
        .map(|c| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default();
    let list = choices
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("unknown {what} {text:?}{hint}; one of {list}")
}

/// The choice `text` most likely meant: the same but for case, or within two edits (a third
/// of the word at most, so short words do not "match" anything).
pub(crate) fn nearest<'c>(text: &str, choices: &[&'c str]) -> Option<&'c str> {
    if let Some(same) = choices.iter().find(|c| c.eq_ignore_ascii_case(text)) {
        return Some(same);
    }
    let lower = text.to_ascii_lowercase();
    choices
        .iter()
        .map(|c| (edits(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2 && *d * 3 <= c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, counting an adjacent swap as one edit (`viop` → `voip`).
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// `#[serde(deserialize_with)]` for an optional push type, with [`push_type`]'s message.
pub(crate) fn de_push_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PushType>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|t| push_type(&t).map_err(serde::de::Error::custom))
        .transpose()
}

/// `#[serde(deserialize_with)]` for an optional reason, with [`reason`]'s message.
pub(crate) fn de_reason<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Reason>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|r| reason(&r).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_names_the_nearest_choice_and_lists_them_all() {
        let err = reason("Unregisterd").unwrap_err();
        assert!(
            err.starts_with(
                r#"unknown APNs reason "Unregisterd" (did you mean "Unregistered"?); one of "#
            ),
            "{err}"
        );
        assert!(err.contains(r#""BadDeviceToken""#), "{err}");

        let err = push_type("viop").unwrap_err();
        assert!(
            err.starts_with(r#"unknown apns-push-type "viop" (did you mean "voip"?); one of "alert", "background", "voip""#),
            "{err}"
        );
        assert!(reason("unregistered")
            .unwrap_err()
            .contains(r#"did you mean "Unregistered"?"#));
    }

    #[test]
    fn nothing_near_is_no_suggestion() {
        assert_eq!(nearest("zz", &["voip", "alert"]), None);
        assert_eq!(
            nearest("expect_push", &["call", "expect_pushes"]),
            Some("expect_pushes")
        );
        assert_eq!(push_type("alert").unwrap(), PushType::Alert);
    }
}
