//! Cleanup of saved labs (snapshot.rs). A saved lab is named by its inputs, so a lab whose
//! inputs changed is never restored again; without cleanup it would stay on disk for ever.
//! After each save, the run sweeps `<cache>/labs/`: it removes saved labs left incomplete
//! (an interrupted save, a discarded restore), those not restored for `keep days`, and then,
//! least recently used first, those beyond the size budget. A lab in use is never removed:
//! its lock is held (shared by a run restoring it, exclusive by the run saving it), and the
//! sweep only removes a lab whose lock it takes exclusively itself. The lab just saved is kept.
//! "Last used" is the stamp's mtime, set when the lab is saved and on every restore.

use super::provision::CacheLock;
use anyhow::{Context, Result};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What the sweep keeps: labs used within `max_age`, within `budget` bytes in all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub max_age: Duration,
    pub budget: u64,
}

pub const KEEP_DAYS_VAR: &str = "XENPROBE_LABS_KEEP_DAYS";
pub const BUDGET_VAR: &str = "XENPROBE_LABS_BUDGET_MB";
const DAY: Duration = Duration::from_secs(86_400);
const MB: u64 = 1 << 20;

impl Policy {
    /// 14 days, 8 GiB: room for every configuration `cargo xtask test` saves on both releases.
    pub const DEFAULT: Policy = Policy {
        max_age: Duration::from_secs(14 * 86_400),
        budget: 8192 * MB,
    };

    /// The default, or what `XENPROBE_LABS_KEEP_DAYS` / `XENPROBE_LABS_BUDGET_MB` say.
    pub fn from_env() -> Result<Policy> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Policy::parse(var(KEEP_DAYS_VAR).as_deref(), var(BUDGET_VAR).as_deref())
    }

    pub fn parse(days: Option<&str>, budget_mb: Option<&str>) -> Result<Policy> {
        let num = |v: &str, name: &str| {
            v.trim().parse::<u64>().with_context(|| {
                format!("{name}={v:?} is not a whole number: set it to one, or unset it")
            })
        };
        let mut p = Policy::DEFAULT;
        if let Some(d) = days {
            p.max_age = DAY * u32::try_from(num(d, KEEP_DAYS_VAR)?).unwrap_or(u32::MAX);
        }
        if let Some(b) = budget_mb {
            p.budget = num(b, BUDGET_VAR)?.saturating_mul(MB);
        }
        Ok(p)
    }
}

/// One saved lab as the sweep sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub name: String,
    /// The stamp, the state and the banner are there.
    pub complete: bool,
    /// Its lock is held by a run (or it is the lab just saved): never removed.
    pub in_use: bool,
    /// Time since it was last saved or restored.
    pub idle: Duration,
    pub bytes: u64,
}

/// Why a lab goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    Incomplete,
    Unused,
    OverBudget,
}

/// The labs to remove and why: incomplete ones, those idle longer than `max_age`, then the
/// least recently used of the rest once the bytes kept (labs in use counted first) pass
/// the budget. Labs in use are never among them.
pub fn doomed<'a>(labs: &'a [Saved], p: &Policy) -> Vec<(&'a str, Why)> {
    let mut order: Vec<&Saved> = labs.iter().collect();
    order.sort_by_key(|l| (!l.in_use, l.idle));
    let mut kept = 0u64;
    let mut out = Vec::new();
    for l in order {
        let why = if l.in_use {
            None
        } else if !l.complete {
            Some(Why::Incomplete)
        } else if l.idle > p.max_age {
            Some(Why::Unused)
        } else if kept.saturating_add(l.bytes) > p.budget {
            Some(Why::OverBudget)
        } else {
            None
        };
        match why {
            Some(w) => out.push((l.name.as_str(), w)),
            None => kept = kept.saturating_add(l.bytes),
        }
    }
    out
}

/// What a sweep removed: (name, bytes, why) per lab.
pub type Removed = Vec<(String, u64, Why)>;

/// Sweeps `labs` (the `<cache>/labs` directory), keeping `keep` (the lab just saved).
pub fn sweep(labs: &Path, keep: &str, p: &Policy) -> Result<Removed> {
    let now = SystemTime::now();
    let mut seen = Vec::new();
    let mut locks = Vec::new();
    for name in lab_names(labs)? {
        let lock = CacheLock::open(&labs.join(format!("{name}.lock")))?;
        let free = name != keep && lock.try_exclusive();
        let saved = inspect(&labs.join(&name), &name, now, !free);
        if free {
            locks.push((name, lock));
        }
        seen.push(saved);
    }
    let mut removed = Vec::new();
    for (name, why) in doomed(&seen, p) {
        let bytes = seen.iter().find(|s| s.name == name).map_or(0, |s| s.bytes);
        let dir = labs.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        // Removed while held: a run that opens the lock later gets a new file.
        let _ = fs::remove_file(labs.join(format!("{name}.lock")));
        removed.push((name.to_string(), bytes, why));
    }
    drop(locks);
    Ok(removed)
}

/// The names of saved labs: each directory, and each lock without one.
fn lab_names(labs: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let rd = fs::read_dir(labs).with_context(|| format!("listing {}", labs.display()))?;
    for e in rd {
        let e = e?;
        let file = e.file_name().to_string_lossy().into_owned();
        let name = match file.strip_suffix(".lock") {
            Some(n) => n.to_string(),
            None if e.file_type()?.is_dir() => file,
            None => continue,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn inspect(dir: &Path, name: &str, now: SystemTime, in_use: bool) -> Saved {
    let complete = super::snapshot::is_complete(dir);
    let used = if complete {
        dir.join("stamp")
    } else {
        dir.to_path_buf()
    };
    let mtime = fs::metadata(&used)
        .and_then(|m| m.modified())
        .unwrap_or(now);
    let bytes = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    Saved {
        name: name.to_string(),
        complete,
        in_use,
        idle: now.duration_since(mtime).unwrap_or_default(),
        bytes,
    }
}

/// The sweep's line for the run's progress, if it removed anything.
pub fn summary(removed: &Removed, p: &Policy) -> Option<String> {
    if removed.is_empty() {
        return None;
    }
    let count = |w: Why| removed.iter().filter(|r| r.2 == w).count();
    let bytes: u64 = removed.iter().map(|r| r.1).sum();
    Some(format!(
        "removed {} saved labs ({} MB): {} incomplete, {} unused for {} days, {} beyond the \
         {} MB budget ({KEEP_DAYS_VAR}, {BUDGET_VAR})",
        removed.len(),
        bytes / MB,
        count(Why::Incomplete),
        count(Why::Unused),
        p.max_age.as_secs() / DAY.as_secs(),
        count(Why::OverBudget),
        p.budget / MB
    ))
}
