//! `--junit FILE`: the run as JUnit XML, the format CI dashboards read (GitLab's test
//! reports, GitHub actions such as action-junit-report, Jenkins).
//!
//! One `testcase` per scenario, named after it, its `classname` the scenario's directory and
//! its `time` the scenario's wall time. A failed scenario has a `failure` whose `message` is
//! one line and whose text is the evidence (the diff, or the failed step with the pushes and
//! the provider's output): GitLab shows the text, Jenkins both. A set-up error is an
//! `error`, the scenarios it kept from running are `skipped`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::outcome::{Outcome, RunReport, ScenarioResult};

/// The report as a JUnit XML document.
pub(crate) fn render(report: &RunReport) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
        report.scenarios.len(),
        report.failed,
        report.errors,
        report.skipped,
        seconds(report.seconds)
    );
    let _ = writeln!(xml, "<testsuites name=\"apns-harness\" {counts}>");
    let _ = writeln!(xml, "  <testsuite name=\"apns-harness\" {counts}>");
    for result in &report.scenarios {
        testcase(&mut xml, result);
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn testcase(xml: &mut String, r: &ScenarioResult) {
    let classname = r
        .file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .display()
        .to_string();
    let _ = write!(
        xml,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{}\"",
        attr(&r.name),
        attr(&classname),
        attr(&r.file.display().to_string()),
        seconds(r.seconds)
    );
    let (element, kind) = match r.outcome {
        Outcome::Ok | Outcome::Accepted => {
            xml.push_str("/>\n");
            return;
        }
        Outcome::Skipped => {
            let _ = writeln!(xml, ">\n      <skipped message=\"{}\"/>", attr(&r.message));
            xml.push_str("    </testcase>\n");
            return;
        }
        Outcome::New => ("failure", "new"),
        Outcome::Diff => ("failure", "diff"),
        Outcome::Fail => ("failure", "fail"),
        Outcome::Lint => ("failure", "lint"),
        Outcome::Error => ("error", "setup"),
    };
    let mut body = r.details.clone();
    if let Some(path) = &r.wrote {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        let _ = write!(body, "wrote {}", path.display());
    }
    let _ = writeln!(
        xml,
        ">\n      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>",
        attr(&r.message),
        text(&body)
    );
    xml.push_str("    </testcase>\n");
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Element text: markup escaped, and characters XML 1.0 cannot hold (a provider's coloured
/// log has ESC) written out as `\u{1b}`.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    out
}

/// An attribute value: as [`text`], plus quotes, and line breaks and tabs as character
/// references (a parser turns literal ones into spaces).
fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// The characters XML 1.0 allows (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            text("a < b && \u{1b}[31mred\u{1b}[0m\n"),
            "a &lt; b &amp;&amp; \\u{1b}[31mred\\u{1b}[0m\n"
        );
        assert_eq!(
            attr("say \"hi\"\nthen\tgo"),
            "say &quot;hi&quot;&#10;then&#9;go"
        );
    }
}
