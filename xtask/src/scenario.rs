//! Lab scenarios (tests/lab/*.toml): one lab run each, with the expected
//! exit code and what the probe's console must and must not contain.

use crate::lab::{Mode, Release, Sched, Xenstored};
use crate::run::{self, RunOpts};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use xp_core::records::Record;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario shows, in a sentence.
    pub about: String,
    #[serde(default = "domu")]
    pub mode: String,
    #[serde(default = "ocaml")]
    pub xenstored: String,
    #[serde(default = "credit2")]
    pub sched: String,
    #[serde(default)]
    pub cmdline: String,
    #[serde(default = "four")]
    pub memory: u32,
    #[serde(default = "sixty")]
    pub timeout: u64,
    pub dom0_script: Option<String>,
    /// Extra options for Xen's command line.
    #[serde(default)]
    pub xen_args: String,
    /// Your own hypervisor (xen.gz or xen), like `--xen`: relative to the repository root;
    /// `{cache}` stands for the lab cache directory (e.g. "{cache}/xen-build/xen.gz").
    pub xen: Option<String>,
    /// Your own dom0 kernel, like `--dom0-kernel` (same path rules as `xen`).
    pub dom0_kernel: Option<String>,
    /// pCPUs of the lab machine (`--pcpus`, default 1).
    #[serde(default = "one")]
    pub pcpus: u32,
    /// vCPUs of the probe domain (`--vcpus`, default 1).
    #[serde(default = "one")]
    pub vcpus: u32,
    /// With pcpus >= 2: dom0 shares the pCPUs with the probe (`--shared-dom0-cpu`).
    #[serde(default)]
    pub shared_dom0_cpu: bool,
    /// The Xen releases the scenario runs on (default: all). `{release}` in any expected
    /// text or record pattern stands for the release of the run ("4.17", "4.20").
    pub releases: Option<Vec<String>>,
    /// Peer domains: `[[peer]] name = "..." cmdline = "..."` (`@MAIN_DOMID@` is substituted).
    #[serde(default)]
    pub peer: Vec<PeerSpec>,
    /// Substrings that must each appear in some line of the named peer's console:
    /// `expect_peer_output = { xpeer = ["Test result: SUCCESS"] }`.
    #[serde(default)]
    pub expect_peer_output: std::collections::BTreeMap<String, Vec<String>>,
    /// xtf-runner exit code the run must end with.
    pub expect_exit: i32,
    /// A substring the run's reason (crash, timeout, failed lab stage) must contain.
    pub expect_reason: Option<String>,
    /// Substrings that must each appear in some probe console line.
    #[serde(default)]
    pub expect_output: Vec<String>,
    /// Substrings that must not appear in any probe console line.
    #[serde(default)]
    pub expect_absent: Vec<String>,
    /// Substrings that must appear in the dom0 script's output.
    #[serde(default)]
    pub expect_script_output: Vec<String>,
    /// Records that must be present: field patterns (exact text, or a numeric range
    /// `lo..hi` / `lo..` / `..hi`), plus `count` (how many must match, default `1..`).
    #[serde(default)]
    pub expect_record: Vec<toml::Table>,
    /// Substrings the report's xentrace section must contain (Xen's view of the stalls,
    /// from `export/xentrace.bin`: crate::xtrace).
    #[serde(default)]
    pub expect_xentrace: Vec<String>,
    /// The lost wake-up as Xen traced it: a vCPU's longest silence in a stall, from what to
    /// what and how long (crate::xtrace::expect::GapWant).
    pub expect_xentrace_gap: Option<crate::xtrace::expect::GapWant>,
    #[serde(skip)]
    pub name: String,
}

/// Does `value` satisfy `pattern` (exact, or an inclusive numeric range `lo..hi`)?
pub fn matches(pattern: &str, value: &str) -> bool {
    let Some((lo, hi)) = pattern.split_once("..") else {
        return pattern == value;
    };
    let Ok(v) = value.parse::<f64>() else {
        return false;
    };
    let bound = |b: &str, dflt: f64| {
        if b.is_empty() {
            Some(dflt)
        } else {
            b.parse::<f64>().ok()
        }
    };
    match (bound(lo, f64::MIN), bound(hi, f64::MAX)) {
        (Some(l), Some(h)) => l <= v && v <= h,
        _ => false,
    }
}

fn pattern_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Check one `[[expect_record]]` table against the records; `None` when satisfied.
fn record_mismatch(want: &toml::Table, records: &[Record]) -> Option<String> {
    let count_pat = want.get("count").map_or("1..".to_string(), pattern_text);
    let fields: Vec<(&String, String)> = want
        .iter()
        .filter(|(k, _)| *k != "count")
        .map(|(k, v)| (k, pattern_text(v)))
        .collect();
    let n = records
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter(|r| {
            fields
                .iter()
                .all(|(k, p)| matches(p, &xp_host::results::field(r, k)))
        })
        .count();
    let shown: Vec<String> = fields.iter().map(|(k, p)| format!("{k}={p}")).collect();
    (!matches(&count_pat, &n.to_string())).then(|| {
        format!(
            "{n} records match {{{}}}, expected count {count_pat}",
            shown.join(", ")
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    pub name: String,
    pub cmdline: String,
    #[serde(default = "four")]
    pub memory: u32,
}

fn domu() -> String {
    "domu".into()
}
fn ocaml() -> String {
    "ocaml".into()
}
fn credit2() -> String {
    "credit2".into()
}
fn four() -> u32 {
    4
}
fn one() -> u32 {
    1
}
fn sixty() -> u64 {
    60
}

/// A scenario's file path: `{cache}` is the lab cache directory; relative paths are taken
/// from the repository root.
pub fn resolve_path(p: &str) -> Result<PathBuf> {
    let cache = crate::lab::cache_dir()?;
    let p = PathBuf::from(p.replace("{cache}", &cache.to_string_lossy()));
    Ok(if p.is_absolute() {
        p
    } else {
        crate::build::root().join(p)
    })
}

/// Load every scenario under `dir`, sorted by file name.
pub fn load_all(dir: &Path) -> Result<Vec<Scenario>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files.iter().map(|f| load(f)).collect()
}

pub fn load(path: &Path) -> Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut s: Scenario =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    s.name = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    s.opts(Path::new("."))?; // validate the enumerations now
    s.releases()?;
    Ok(s)
}

impl Scenario {
    pub fn opts(&self, out_root: &Path) -> Result<RunOpts> {
        let (mode, xenstored, sched) = self.enums()?;
        Ok(RunOpts {
            mode,
            xenstored,
            sched,
            cmdline: self.cmdline.clone(),
            memory_mib: self.memory,
            timeout_s: self.timeout,
            dom0_script: self.dom0_script.clone(),
            xen_args: self.xen_args.clone(),
            peers: self.peers(),
            xen: self.xen.as_deref().map(resolve_path).transpose()?,
            dom0_kernel: self.dom0_kernel.as_deref().map(resolve_path).transpose()?,
            cpus: crate::lab::Cpus {
                pcpus: self.pcpus,
                vcpus: self.vcpus,
                shared_dom0_cpu: self.shared_dom0_cpu,
            },
            release: self.releases()?.first().copied().unwrap_or(Release::X417),
            cold: false,
            out_dir: out_root.join(&self.name),
            verbose: false,
            raw: false,
        })
    }

    fn enums(&self) -> Result<(Mode, Xenstored, Sched)> {
        let mode = match self.mode.as_str() {
            "domu" => Mode::DomU,
            "dom0" => Mode::Dom0,
            m => bail!("scenario {}: mode '{m}' (accepted: domu, dom0)", self.name),
        };
        let xenstored = match self.xenstored.as_str() {
            "c" => Xenstored::C,
            "ocaml" => Xenstored::Ocaml,
            x => bail!(
                "scenario {}: xenstored '{x}' (accepted: c, ocaml)",
                self.name
            ),
        };
        let sched = match self.sched.as_str() {
            "credit" => Sched::Credit,
            "credit2" => Sched::Credit2,
            x => bail!(
                "scenario {}: sched '{x}' (accepted: credit, credit2)",
                self.name
            ),
        };
        Ok((mode, xenstored, sched))
    }

    /// The releases this scenario runs on.
    pub fn releases(&self) -> Result<Vec<Release>> {
        let Some(names) = &self.releases else {
            return Ok(Release::ALL.to_vec());
        };
        let parse =
            |n: &String| Release::parse(n).with_context(|| format!("scenario {}", self.name));
        names.iter().map(parse).collect()
    }

    fn peers(&self) -> Vec<crate::lab::Peer> {
        let peer = |p: &PeerSpec| crate::lab::Peer {
            name: p.name.clone(),
            cmdline: p.cmdline.clone(),
            memory_mib: p.memory,
            kernel: None,
        };
        self.peer.iter().map(peer).collect()
    }

    /// Every way `out` differs from what the scenario expects (empty = pass).
    pub fn mismatches(&self, out: &run::Outcome) -> Vec<String> {
        let release = out.lab.what.release.as_str();
        let sub = |s: &str| s.replace("{release}", release);
        let mut m = self.verdict_mismatches(out, &sub);
        m.extend(self.text_mismatches(out, &sub));
        m.extend(self.peer_mismatches(out, &sub));
        for want in &self.expect_record {
            let want = substitute_table(want, release);
            m.extend(record_mismatch(&want, &out.parsed.records));
        }
        m.extend(crate::xtrace::expect::mismatches(
            &self.expect_xentrace,
            self.expect_xentrace_gap.as_ref(),
            &out.lab.serial_log,
        ));
        for (line, why) in &out.parsed.bad {
            m.push(format!(
                "unparseable @xp record on console line {line}: {why}"
            ));
        }
        m
    }

    fn verdict_mismatches(&self, out: &run::Outcome, sub: &dyn Fn(&str) -> String) -> Vec<String> {
        let mut m = Vec::new();
        let code = out.verdict.exit_code();
        if code != self.expect_exit {
            let why = out.reason.as_deref().unwrap_or("");
            let name = out.verdict.name();
            m.push(format!(
                "exit code {code} ({name}), expected {} {why}",
                self.expect_exit
            ));
        }
        if let Some(want) = self.expect_reason.as_deref().map(sub) {
            let got = out.reason.as_deref().unwrap_or("");
            if !got.contains(want.as_str()) {
                m.push(format!("reason {got:?} lacks {want:?}"));
            }
        }
        m
    }

    fn text_mismatches(&self, out: &run::Outcome, sub: &dyn Fn(&str) -> String) -> Vec<String> {
        let mut m = Vec::new();
        let has = |lines: &[String], want: &str| lines.iter().any(|l| l.contains(want));
        for want in self.expect_output.iter().map(|w| sub(w)) {
            if !has(&out.lab.probe_lines, &want) {
                m.push(format!("console lacks {want:?}"));
            }
        }
        for bad in self.expect_absent.iter().map(|b| sub(b)) {
            if let Some(l) = out
                .lab
                .probe_lines
                .iter()
                .find(|l| l.contains(bad.as_str()))
            {
                m.push(format!("console has {bad:?}: {l}"));
            }
        }
        for want in self.expect_script_output.iter().map(|w| sub(w)) {
            if !has(&out.lab.script_lines, &want) {
                m.push(format!("dom0 script output lacks {want:?}"));
            }
        }
        m
    }

    fn peer_mismatches(&self, out: &run::Outcome, sub: &dyn Fn(&str) -> String) -> Vec<String> {
        let mut m = Vec::new();
        for (peer, wants) in &self.expect_peer_output {
            let lines: Vec<&String> = out
                .lab
                .peer_lines
                .iter()
                .filter(|(n, _)| n == peer)
                .map(|(_, l)| l)
                .collect();
            for want in wants.iter().map(|w| sub(w)) {
                if !lines.iter().any(|l| l.contains(want.as_str())) {
                    let n = lines.len();
                    m.push(format!("peer {peer} console lacks {want:?} ({n} lines)"));
                }
            }
        }
        m
    }
}

/// A record pattern table with `{release}` replaced in its string values.
fn substitute_table(t: &toml::Table, release: &str) -> toml::Table {
    let sub = |(k, v): (&String, &toml::Value)| {
        let v = match v {
            toml::Value::String(s) => toml::Value::String(s.replace("{release}", release)),
            other => other.clone(),
        };
        (k.clone(), v)
    };
    t.iter().map(sub).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_scenario_in_the_tree_loads() {
        let dir = crate::build::root().join("tests/lab");
        let all = super::load_all(&dir).unwrap();
        assert!(!all.is_empty());
        assert!(all.iter().all(|s| !s.about.is_empty()));
    }

    #[test]
    fn record_patterns() {
        use super::matches;
        assert!(matches("paused_offline", "paused_offline"));
        assert!(!matches("paused_offline", "preempted"));
        assert!(matches("1000..2000", "1500") && !matches("1000..2000", "2001"));
        assert!(matches("1..", "7") && matches("..0", "0") && !matches("1..", "0"));
        assert!(!matches("1..2", "x"));
        let t: toml::Table =
            toml::from_str("kind='stall'\nclass='paused_offline'\ngap_ns='1..'").unwrap();
        let recs = vec![
            serde_json::from_value(serde_json::json!({"kind":"stall","probe":"stall",
            "start_ns":1,"start_wall_ns":0,"gap_ns":5,"class":"paused_offline","reason":"r",
            "running_ns":0,"runnable_ns":0,"blocked_ns":0,"offline_ns":0,
            "blocked_past_deadline_ns":0,"runstate_coverage_permille":0}))
            .unwrap(),
        ];
        assert_eq!(super::record_mismatch(&t, &recs), None);
        let t: toml::Table = toml::from_str("kind='stall'\ncount='0'").unwrap();
        assert!(super::record_mismatch(&t, &recs)
            .unwrap()
            .contains("1 records match"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = toml::from_str::<super::Scenario>("about='x'\nexpect_exit=0\nbogus=1").unwrap_err();
        assert!(e.to_string().contains("bogus"));
    }
}
