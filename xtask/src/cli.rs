//! A small, strict argument parser: every unknown or malformed option is an
//! error that names it and lists what the command accepts.

use anyhow::{bail, Result};
use std::collections::VecDeque;

pub struct Args {
    cmd: &'static str,
    accepted: &'static [&'static str],
    rest: VecDeque<String>,
}

impl Args {
    pub fn new(cmd: &'static str, accepted: &'static [&'static str], rest: Vec<String>) -> Self {
        Args {
            cmd,
            accepted,
            rest: rest.into(),
        }
    }

    /// A boolean `--name`.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// `--name VALUE` or `--name=VALUE`.
    pub fn value(&mut self, name: &str) -> Result<Option<String>> {
        let eq = format!("{name}=");
        let Some(i) = self
            .rest
            .iter()
            .position(|a| a == name || a.starts_with(&eq))
        else {
            return Ok(None);
        };
        let arg = self.rest.remove(i).unwrap_or_default();
        if let Some(v) = arg.strip_prefix(&eq) {
            return Ok(Some(v.to_string()));
        }
        match self.rest.remove(i) {
            Some(v) if !v.starts_with("--") => Ok(Some(v)),
            _ => bail!("`cargo xtask {}`: {name} needs a value", self.cmd),
        }
    }

    /// `--name VALUE` parsed as one of `choices`.
    pub fn choice(&mut self, name: &str, choices: &[&'static str]) -> Result<Option<&'static str>> {
        let Some(v) = self.value(name)? else {
            return Ok(None);
        };
        match choices.iter().find(|c| **c == v) {
            Some(c) => Ok(Some(c)),
            None => bail!(
                "bad value '{v}' for {name} (accepted: {})",
                choices.join(", ")
            ),
        }
    }

    /// `--name N` parsed as a number.
    pub fn number<T: std::str::FromStr>(&mut self, name: &str, what: &str) -> Result<Option<T>> {
        let Some(v) = self.value(name)? else {
            return Ok(None);
        };
        match v.parse() {
            Ok(n) => Ok(Some(n)),
            Err(_) => bail!("bad value '{v}' for {name} (expected {what})"),
        }
    }

    /// Take the arguments that are not options (call after every option was read).
    pub fn positionals(&mut self) -> Vec<String> {
        let (pos, rest): (Vec<String>, Vec<String>) =
            self.rest.drain(..).partition(|a| !a.starts_with("--"));
        self.rest = rest.into();
        pos
    }

    /// Fail if anything was not consumed.
    pub fn finish(self) -> Result<()> {
        if let Some(a) = self.rest.front() {
            bail!(
                "unknown argument '{a}' for `cargo xtask {}` (accepted: {})",
                self.cmd,
                self.accepted.join(" ")
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Args {
        Args::new(
            "run",
            &["--dom0", "--timeout S"],
            v.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn parses_flags_values_and_rejects_leftovers() {
        let mut a = args(&["--dom0", "--timeout", "5", "--sched=credit"]);
        assert!(a.flag("--dom0"));
        assert_eq!(a.number::<u64>("--timeout", "seconds").unwrap(), Some(5));
        assert_eq!(
            a.choice("--sched", &["credit", "credit2"]).unwrap(),
            Some("credit")
        );
        a.finish().unwrap();

        let e = args(&["--bogus"]).finish().unwrap_err().to_string();
        assert!(
            e.contains("unknown argument '--bogus'") && e.contains("--dom0"),
            "{e}"
        );
        let e = args(&["--sched", "fifo"])
            .choice("--sched", &["credit", "credit2"])
            .unwrap_err();
        assert!(e
            .to_string()
            .contains("bad value 'fifo' for --sched (accepted: credit, credit2)"));
        let e = args(&["--timeout"]).value("--timeout").unwrap_err();
        assert!(e.to_string().contains("--timeout needs a value"));
        let e = args(&["--timeout", "x"])
            .number::<u64>("--timeout", "seconds")
            .unwrap_err();
        assert!(e.to_string().contains("expected seconds"));
    }
}
