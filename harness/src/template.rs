//! `{{name}}` templates in scenario strings: token names (`{{bob-iphone.voip}}`), values
//! captured from the provider (`{{call_id}}`) and `{{repeat:N:text}}` for long strings
//! (an oversized payload without a 6 000-character line in the file).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Names a template may use at some point of a scenario (for checking).
#[derive(Debug, Default, Clone)]
pub(crate) struct TemplateVars {
    names: BTreeSet<String>,
}

impl TemplateVars {
    pub(crate) fn define(&mut self, name: &str) {
        self.names.insert(name.to_owned());
    }
}

/// Every `{{…}}` in `text` names a defined variable or is a valid `repeat`.
pub(crate) fn check(text: &str, vars: &TemplateVars) -> Result<(), String> {
    expand_with(text, |name| {
        if vars.names.contains(name) {
            Ok(String::new())
        } else {
            let defined = match vars.names.is_empty() {
                true => "nothing".to_owned(),
                false => vars.names.iter().cloned().collect::<Vec<_>>().join(", "),
            };
            Err(format!(
                "{{{{{name}}}}} is not defined here: a template names a token (bob-iphone.voip) \
                 or a value captured by an earlier call (defined here: {defined})"
            ))
        }
    })
    .map(drop)
}

/// [`check`] over every string in a JSON value.
pub(crate) fn check_value(value: &Value, vars: &TemplateVars) -> Result<(), String> {
    match value {
        Value::String(s) => check(s, vars),
        Value::Array(items) => items.iter().try_for_each(|v| check_value(v, vars)),
        Value::Object(map) => map.values().try_for_each(|v| check_value(v, vars)),
        _ => Ok(()),
    }
}

/// Replaces every `{{…}}` with its value.
pub(crate) fn expand(text: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    expand_with(text, |name| {
        values
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{{{{{name}}}}} has no value"))
    })
}

/// [`expand`] over every string in a JSON value.
pub(crate) fn expand_value(
    value: &Value,
    values: &BTreeMap<String, String>,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(expand(s, values)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| expand_value(v, values))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), expand_value(v, values)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn expand_with(
    text: &str,
    mut lookup: impl FnMut(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in {text:?}"))?;
        let name = after[..end].trim();
        out.push_str(&match name.strip_prefix("repeat:") {
            Some(spec) => repeat(spec)?,
            None => lookup(name)?,
        });
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `N:text` → `text` repeated N times (at most 1 MB).
fn repeat(spec: &str) -> Result<String, String> {
    let bad = || format!("{{{{repeat:{spec}}}}} is not {{{{repeat:COUNT:TEXT}}}}");
    let (count, text) = spec.split_once(':').ok_or_else(bad)?;
    let count: usize = count.parse().map_err(|_| bad())?;
    if text.is_empty() || count.saturating_mul(text.len()) > 1 << 20 {
        return Err(bad());
    }
    Ok(text.repeat(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_repeats_expand() {
        let values = BTreeMap::from([("call_id".to_owned(), "42".to_owned())]);
        assert_eq!(
            expand("/calls/{{call_id}}/x{{repeat:3:ab}}", &values).unwrap(),
            "/calls/42/xababab"
        );
    }

    #[test]
    fn unknown_and_unclosed_templates_are_errors() {
        let vars = TemplateVars::default();
        assert!(check("{{nope}}", &vars).unwrap_err().contains("nope"));
        let mut defined = TemplateVars::default();
        defined.define("bob-iphone.voip");
        defined.define("call_id");
        assert!(
            check("{{bob-ipad.voip}}", &defined)
                .unwrap_err()
                .ends_with("(defined here: bob-iphone.voip, call_id)"),
            "the message lists what may be used"
        );
        assert!(check("{{nope", &vars).unwrap_err().contains("unclosed"));
        assert!(check("{{repeat:x:y}}", &vars).is_err());
        assert!(check("{{repeat:2:y}}", &vars).is_ok());
    }
}
