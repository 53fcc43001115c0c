//! Host tests of the saved-lab cleanup: the choice (pure) and a sweep of a real directory
//! with a lab held by a run.

use super::labs_gc::{doomed, sweep, Policy, Saved, Why};
use super::provision::CacheLock;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const DAY: Duration = Duration::from_secs(86_400);

fn lab(name: &str, idle_days: u64, mb: u64) -> Saved {
    Saved {
        name: name.into(),
        complete: true,
        in_use: false,
        idle: DAY * idle_days as u32,
        bytes: mb << 20,
    }
}

#[test]
fn unused_and_least_recently_used_beyond_the_budget_go() {
    let p = Policy {
        max_age: DAY * 14,
        budget: 350 << 20,
    };
    let mut busy = lab("busy", 40, 120);
    busy.in_use = true;
    let mut half = lab("half", 0, 10);
    half.complete = false;
    let labs = [
        lab("old", 15, 100),
        lab("new", 0, 100),
        busy,
        lab("older", 3, 100),
        lab("mid", 1, 100),
        half,
    ];
    // In use first (120 MB kept, even unused for 40 days), then the newest: new and mid fit in
    // 350 MB, older does not.
    assert_eq!(
        doomed(&labs, &p),
        [
            ("half", Why::Incomplete),
            ("older", Why::OverBudget),
            ("old", Why::Unused),
        ]
    );
    assert!(doomed(&labs[1..2], &p).is_empty());
}

#[test]
fn policy_from_the_environment_values() {
    assert_eq!(Policy::parse(None, None).unwrap(), Policy::DEFAULT);
    let p = Policy::parse(Some("2"), Some("512")).unwrap();
    assert_eq!((p.max_age, p.budget), (DAY * 2, 512 << 20));
    let e = Policy::parse(Some("two"), None).unwrap_err();
    assert!(format!("{e:#}").contains("XENPROBE_LABS_KEEP_DAYS=\"two\" is not a whole number"));
}

fn temp_labs(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xp-labs-gc-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// A complete saved lab last used `idle_days` ago, with a 1 MB state.
fn saved(labs: &Path, name: &str, idle_days: u64) {
    let dir = labs.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("state"), vec![0u8; 1 << 20]).unwrap();
    fs::write(dir.join("banner.txt"), "Xen 4.20").unwrap();
    fs::write(dir.join("stamp"), "saved").unwrap();
    fs::write(labs.join(format!("{name}.lock")), "").unwrap();
    let when = SystemTime::now() - DAY * idle_days as u32;
    let f = fs::File::options()
        .write(true)
        .open(dir.join("stamp"))
        .unwrap();
    f.set_modified(when).unwrap();
}

#[test]
fn sweep_removes_unused_and_incomplete_labs_but_never_one_in_use() {
    let labs = temp_labs("sweep");
    saved(&labs, "fresh", 1);
    saved(&labs, "stale", 30);
    saved(&labs, "held", 30);
    saved(&labs, "justsaved", 30);
    fs::create_dir_all(labs.join("interrupted")).unwrap();
    fs::write(labs.join("interrupted/state.tmp1"), "x").unwrap();
    fs::write(labs.join("orphan.lock"), "").unwrap();
    // Another run restoring "held" holds its lock shared.
    let run = CacheLock::open(&labs.join("held.lock")).unwrap();
    assert!(run.try_shared());
    let p = Policy {
        max_age: DAY * 14,
        budget: 100 << 20,
    };
    let removed = sweep(&labs, "justsaved", &p).unwrap();
    let mut names: Vec<_> = removed.iter().map(|r| (r.0.as_str(), r.2)).collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("interrupted", Why::Incomplete),
            ("orphan", Why::Incomplete),
            ("stale", Why::Unused),
        ]
    );
    let stale = removed.iter().find(|r| r.0 == "stale").unwrap();
    assert!(stale.1 > 1 << 20, "{} bytes", stale.1);
    let mut left: Vec<_> = fs::read_dir(&labs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let want = [
        "fresh",
        "fresh.lock",
        "held",
        "held.lock",
        "justsaved",
        "justsaved.lock",
    ];
    assert_eq!(left, want);
    drop(run);
    // Released and still unused: the next sweep takes it.
    let again = sweep(&labs, "justsaved", &p).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].0.as_str(), again[0].2), ("held", Why::Unused));
    let _ = fs::remove_dir_all(&labs);
}
