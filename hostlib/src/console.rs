//! One line of a probe's console as a person or a tool sees it: human text, an `@xp` record
//! (the machine twin of a human line, for logs and JSON), or the `Test result:` line.

use xp_core::outcome::{Outcome, RECORD_PREFIX, RESULT_PREFIX};

/// What a console line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// Text for a person.
    Human(&'a str),
    /// The JSON of an `@xp` record (not yet parsed).
    Record(&'a str),
    /// `Test result: WORD` with one of the four words.
    Result(Outcome),
}

/// Classify one line (without its newline; a trailing `\r` from a terminal is dropped).
pub fn classify(line: &str) -> Line<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(json) = line.strip_prefix(RECORD_PREFIX) {
        return Line::Record(json);
    }
    if let Some(word) = line.strip_prefix(RESULT_PREFIX) {
        if let Some(o) = Outcome::parse(word).filter(|o| o.name() == word) {
            return Line::Result(o);
        }
    }
    Line::Human(line)
}

/// The line a lab run's serial.log starts with, naming the xenstored dom0 runs
/// (`XPLAB xenstored: oxenstored`): no Xen output says it.
pub const LAB_XENSTORED: &str = "XPLAB xenstored: ";

/// The probe's own console text of a raw log line, without what carried it to the log (the
/// lab relay's `XPC|`, Xen's `(d1) ` tag, a xenconsoled `--timestamp` or kernel-log stamp);
/// `None` for the lab's other streams (dom0 script, xl, diagnostics, peer domains), which may
/// quote @xp lines that are not this probe's.
pub fn probe_text(raw: &str) -> Option<&str> {
    let other = ["XPS|", "XPX|", "XPD|", "XPP|", "XPLAB "];
    if other.iter().any(|t| raw.starts_with(t)) {
        return None;
    }
    Some(strip_carriers(raw))
}

/// Removes carrier prefixes, in any order and repeated.
pub fn strip_carriers(mut s: &str) -> &str {
    loop {
        let t = s.trim_start_matches(['\r', '\0']);
        let t = t
            .strip_prefix("XPC|")
            .or_else(|| strip_domain_tag(t))
            .or_else(|| strip_timestamp(t))
            .unwrap_or(t);
        if t.len() == s.len() {
            return s;
        }
        s = t;
    }
}

/// `(d12) rest` -> `rest`.
fn strip_domain_tag(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("(d")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    (1..=5).contains(&digits).then_some(())?;
    rest[digits..].strip_prefix(") ")
}

/// `[2026-11-21 09:00:00] rest` or `[   12.345678] rest` -> `rest`.
fn strip_timestamp(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find(']').filter(|&e| e <= 40)?;
    let stamp = &rest[..end];
    let ok = stamp.bytes().any(|b| b.is_ascii_digit())
        && stamp
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-:. T+Z,".contains(&b));
    ok.then(|| {
        rest[end + 1..]
            .strip_prefix(' ')
            .unwrap_or(&rest[end + 1..])
    })
}

/// Whether a terminal shows the line: human lines always, records only with `raw`.
pub fn shown(line: &Line<'_>, raw: bool) -> bool {
    raw || !matches!(line, Line::Record(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_kind() {
        assert_eq!(classify("  timer: ok\r"), Line::Human("  timer: ok"));
        assert_eq!(
            classify("@xp {\"kind\":\"x\"}"),
            Line::Record("{\"kind\":\"x\"}")
        );
        assert_eq!(classify("Test result: SKIP"), Line::Result(Outcome::Skip));
        // Not one of the four words: text, not a verdict.
        assert_eq!(
            classify("Test result: MAYBE"),
            Line::Human("Test result: MAYBE")
        );
        assert_eq!(
            classify("Test result: skip"),
            Line::Human("Test result: skip")
        );
        assert!(!shown(&classify("@xp {}"), false));
        assert!(shown(&classify("@xp {}"), true));
        assert!(shown(&classify("Test result: SUCCESS"), false));
    }

    #[test]
    fn strips_carriers_and_drops_other_streams() {
        let t = "[2026-11-21 09:00:00] (d3) XPC|@xp {}";
        assert_eq!(probe_text(t), Some("@xp {}"));
        assert_eq!(
            probe_text("XPC|[   12.5] Test result: SKIP"),
            Some("Test result: SKIP")
        );
        assert_eq!(probe_text("XPS|@xp {}"), None);
        assert_eq!(probe_text("XPP|peer|@xp {}"), None);
        // Text in brackets that is not a time stays.
        assert_eq!(probe_text("[ok  ] name"), Some("[ok  ] name"));
        assert_eq!(probe_text("(d) x"), Some("(d) x"));
    }
}
