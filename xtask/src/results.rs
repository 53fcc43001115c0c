//! Reading a probe's console: `@xp {json}` records and the `Test result:` line.

use serde_json::Value;
use xp_core::outcome::{Outcome, RECORD_PREFIX, RESULT_PREFIX};

/// Everything a console log says, parsed.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Every `@xp` record, in order.
    pub records: Vec<Value>,
    /// The `Test result:` line's outcome, if one was printed.
    pub result: Option<Outcome>,
    /// `@xp` lines that were not valid JSON objects (line number, reason).
    pub bad: Vec<(usize, String)>,
}

/// The run's verdict: xtf-runner's five outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Outcome(Outcome),
    /// No result line: the probe crashed, hung or the lab died under it.
    Crash,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Outcome(o) => o.exit_code(),
            Verdict::Crash => 6,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Outcome(o) => o.name(),
            Verdict::Crash => "CRASH",
        }
    }
}

/// Parse console lines. Unparseable records are collected, never fatal.
pub fn parse(lines: &[String]) -> Parsed {
    let mut p = Parsed::default();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches('\r');
        if let Some(json) = line.strip_prefix(RECORD_PREFIX) {
            match serde_json::from_str::<Value>(json) {
                Ok(v) if v.is_object() => p.records.push(v),
                Ok(_) => p.bad.push((i + 1, "not a JSON object".into())),
                Err(e) => p.bad.push((i + 1, e.to_string())),
            }
        } else if let Some(r) = line.strip_prefix(RESULT_PREFIX) {
            // Exactly one of the four words; anything else is not a result line.
            if let Some(o) = Outcome::parse(r.trim()).filter(|o| o.name() == r.trim()) {
                p.result = Some(o);
            }
        }
    }
    p
}

impl Parsed {
    /// Records of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.records.iter().filter(move |r| r["kind"] == kind)
    }

    /// The value of an `info` record (first probe that reported `key`).
    pub fn info(&self, key: &str) -> Option<&str> {
        self.of_kind("info")
            .find(|r| r["key"] == key)
            .and_then(|r| r["value"].as_str())
    }

    /// The verdict: the result line if present, else CRASH.
    pub fn verdict(&self) -> Verdict {
        self.result.map_or(Verdict::Crash, Verdict::Outcome)
    }
}

/// Field `k` of a record as text (strings unquoted, numbers as written).
pub fn field(r: &Value, k: &str) -> String {
    match &r[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(String::from).collect()
    }

    #[test]
    fn records_and_result() {
        let p = parse(&lines(
            "hello\n@xp {\"kind\":\"info\",\"key\":\"xen_version\",\"value\":\"4.17.7\"}\n\
             @xp {\"kind\":\"check\",\"verdict\":\"fail\"}\nTest result: FAILURE\r",
        ));
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.info("xen_version"), Some("4.17.7"));
        assert_eq!(p.verdict(), Verdict::Outcome(Outcome::Failure));
        assert_eq!(p.verdict().exit_code(), 5);
        assert_eq!(p.of_kind("check").count(), 1);
    }

    #[test]
    fn no_result_is_crash_and_garbage_is_reported() {
        let p = parse(&lines(
            "@xp {\"kind\":\"crash\"\n@xp [1]\n@xp {\"kind\":\"start\"}\nTest result: MAYBE",
        ));
        assert_eq!(p.verdict(), Verdict::Crash);
        assert_eq!(p.verdict().exit_code(), 6);
        assert_eq!(p.bad.len(), 2);
        assert_eq!(p.bad[0].0, 1);
        assert_eq!(p.records.len(), 1);
    }

    #[test]
    fn truncated_log_never_panics() {
        let full = "@xp {\"kind\":\"info\",\"key\":\"k\",\"value\":\"v\"}\nTest result: SUCCESS\n";
        for cut in 0..full.len() {
            let _ = parse(&lines(&full[..cut])).verdict();
        }
    }
}
