//! Reading a probe's console: `@xp {json}` records and the `Test result:` line.

use serde_json::Value;
use xp_core::outcome::{Outcome, RECORD_PREFIX, RESULT_PREFIX};
use xp_core::records::{self, owned, Pick, Record};

/// Everything a console log says, parsed.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Every `@xp` record, in order.
    pub records: Vec<Record>,
    /// The `Test result:` line's outcome, if one was printed.
    pub result: Option<Outcome>,
    /// `@xp` lines that were not records (line number, reason).
    pub bad: Vec<(usize, String)>,
    /// Other oddities worth a warning (line number, what): a record after other text on its
    /// line, a result line with an unknown word, an earlier run in the same log.
    pub notes: Vec<(usize, String)>,
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
        p.feed(i + 1, line);
    }
    p
}

/// Parse a whole console log as captured outside the lab runner: the lab's serial log, a
/// xenconsoled log (with or without `--timestamp`), an `xl console` capture, or Xen's own
/// console. Carrier prefixes are stripped first ([`strip_carriers`]). A log that holds several
/// runs (xenconsoled appends) is reported from its last `start` record on.
pub fn parse_console(text: &str) -> Parsed {
    let mut p = Parsed::default();
    for (i, raw) in text.split('\n').enumerate() {
        // The lab's other streams (dom0 script, xl, diagnostics, peer domains) are not this
        // probe's console, even when they quote @xp lines.
        if ["XPS|", "XPX|", "XPD|", "XPP|"]
            .iter()
            .any(|t| raw.starts_with(t))
        {
            continue;
        }
        let before = (p.records.len(), p.result.is_some());
        p.feed(i + 1, strip_carriers(raw));
        let started = matches!(p.records.last(), Some(Record::Start(_)));
        if started && p.records.len() > before.0 && (before.0 > 0 || before.1) {
            p.restart(i + 1);
        }
    }
    p
}

/// What carries a console line to the log (the lab relay's `XPC|`, Xen's `(d1) ` guest tag,
/// a xenconsoled or kernel-log timestamp) is stripped by the code the host binary uses.
pub use crate::console::strip_carriers;

impl Parsed {
    /// One console line without carrier prefixes; `n` is its 1-based line number.
    fn feed(&mut self, n: usize, line: &str) {
        let line = line.trim_end_matches('\r');
        if let Some(json) = line.strip_prefix(RECORD_PREFIX) {
            self.record(n, json);
        } else if let Some(r) = line.strip_prefix(RESULT_PREFIX) {
            // Exactly one of the four words; anything else is not a result line.
            match Outcome::parse(r.trim()).filter(|o| o.name() == r.trim()) {
                Some(o) => self.result = Some(o),
                None => self.notes.push((
                    n,
                    format!("not a result line: {r:?} (accepted: SUCCESS, SKIP, ERROR, FAILURE)"),
                )),
            }
        } else if let Some(i) = line.find("@xp {") {
            let what = "an @xp record after other text (interleaved output?): the text before it is ignored";
            self.notes.push((n, what.into()));
            self.record(n, &line[i + RECORD_PREFIX.len()..]);
        }
    }

    fn record(&mut self, n: usize, json: &str) {
        match Record::parse(json) {
            Ok(r) => self.records.push(r),
            Err(e) => self.bad.push((n, e)),
        }
    }

    /// The start record on line `n` begins a new run: keep it, the notes, and nothing before.
    fn restart(&mut self, n: usize) {
        let start = self.records.pop();
        let mut notes = std::mem::take(&mut self.notes);
        notes.push((
            n,
            "a new run starts here: earlier runs in this log are ignored".into(),
        ));
        *self = Parsed {
            notes,
            records: start.into_iter().collect(),
            ..Parsed::default()
        };
    }

    /// Records of one kind (`p.of::<owned::Check>()`).
    pub fn of<'a, T: Pick + 'a>(&'a self) -> impl Iterator<Item = &'a T> + 'a {
        records::of(&self.records)
    }

    /// The value of an `info` record (first probe that reported `key`).
    pub fn info(&self, key: &str) -> Option<&str> {
        self.of::<owned::Info>()
            .find(|r| r.key == key)
            .map(|r| r.value.as_str())
    }

    /// The verdict: the result line if present, else CRASH.
    pub fn verdict(&self) -> Verdict {
        self.result.map_or(Verdict::Crash, Verdict::Outcome)
    }
}

/// One probe's tally, computed once for every view: its result, time and checks.
#[derive(Debug)]
pub struct Tally<'a> {
    pub probe: &'a str,
    /// From its `probe_end` record (`None`: it never ended).
    pub end: Option<&'a owned::ProbeEnd>,
    pub checks: Vec<&'a owned::Check>,
    pub errors: Vec<&'a owned::Error>,
}

impl Tally<'_> {
    /// Checks that did not pass.
    pub fn not_passed(&self) -> impl Iterator<Item = &owned::Check> {
        self.checks.iter().copied().filter(|c| !c.verdict.passed())
    }
}

/// Every probe with a check, an end or an error, in order of appearance.
pub fn tallies(records: &[Record]) -> Vec<Tally<'_>> {
    let mut out: Vec<Tally> = Vec::new();
    for r in records {
        let probe = match r {
            Record::Check(_) | Record::ProbeEnd(_) | Record::Error(_) => r.probe(),
            _ => None,
        };
        let Some(probe) = probe else { continue };
        let i = match out.iter().position(|t| t.probe == probe) {
            Some(i) => i,
            None => {
                out.push(Tally {
                    probe,
                    end: None,
                    checks: Vec::new(),
                    errors: Vec::new(),
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        match r {
            Record::Check(c) => t.checks.push(c),
            Record::ProbeEnd(e) => t.end = Some(e),
            Record::Error(e) => t.errors.push(e),
            _ => {}
        }
    }
    out
}

/// What a `crash` record says happened, if the log has one.
pub fn crash_reason(p: &Parsed) -> Option<String> {
    p.of::<owned::Crash>().next().map(owned::Crash::describe)
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
            "hello\n@xp {\"kind\":\"info\",\"probe\":\"p\",\"key\":\"xen_version\",\"value\":\"4.17.7\"}\n\
             @xp {\"kind\":\"check\",\"probe\":\"p\",\"name\":\"c\",\"verdict\":\"fail\",\"expected\":\"1\",\"observed\":\"2\"}\nTest result: FAILURE\r",
        ));
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.info("xen_version"), Some("4.17.7"));
        assert_eq!(p.verdict(), Verdict::Outcome(Outcome::Failure));
        assert_eq!(p.verdict().exit_code(), 5);
        assert_eq!(p.of::<owned::Check>().count(), 1);
    }

    #[test]
    fn no_result_is_crash_and_garbage_is_reported() {
        let p = parse(&lines(
            "@xp {\"kind\":\"crash\"\n@xp [1]\n@xp {\"kind\":\"result\",\"result\":\"SUCCESS\"}\nTest result: MAYBE",
        ));
        assert_eq!(p.verdict(), Verdict::Crash);
        assert_eq!(p.verdict().exit_code(), 6);
        assert_eq!(p.bad.len(), 2);
        assert_eq!(p.bad[0].0, 1);
        assert_eq!(p.records.len(), 1);
    }

    #[test]
    fn truncated_log_never_panics() {
        let full = "@xp {\"kind\":\"info\",\"probe\":\"p\",\"key\":\"k\",\"value\":\"v\"}\nTest result: SUCCESS\n";
        for cut in 0..full.len() {
            let _ = parse(&lines(&full[..cut])).verdict();
        }
    }
}
