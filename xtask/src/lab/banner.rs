//! What ran, in Xen's own words: the boot banner (`(XEN) Xen version 4.17.7 (...) ... debug=n
//! Wed Nov  4 16:52:28 UTC 2026`), `(XEN) Latest ChangeSet: ...` and `(XEN) Using scheduler:
//! SMP Credit Scheduler rev2 (credit2)`, read from the serial log (and kept with a saved lab:
//! a restored run sees none of them).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct XenBuild {
    /// `major.minor`, e.g. "4.20".
    pub version: String,
    /// XEN_EXTRAVERSION, e.g. ".4" or "-unstable".
    pub extraversion: String,
    /// XEN_CHANGESET as Xen prints it, when it does.
    pub changeset: Option<String>,
    /// XEN_COMPILE_DATE.
    pub compile_date: Option<String>,
    /// The scheduler as Xen names it at boot: `SMP Credit Scheduler rev2 (credit2)`.
    pub scheduler: Option<String>,
    /// The banner line itself.
    pub banner: String,
}

impl XenBuild {
    /// Parses the text after `(XEN) ` of Xen's banner line; `None` for any other line.
    pub fn from_banner(text: &str) -> Option<XenBuild> {
        let rest = text.strip_prefix("Xen version ")?;
        let full = rest.split_whitespace().next()?;
        let mut parts = full.splitn(3, '.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let digits = minor
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(minor.len());
        let version = format!("{major}.{}", &minor[..digits]);
        Some(XenBuild {
            extraversion: full[version.len()..].to_string(),
            version,
            changeset: None,
            scheduler: None,
            compile_date: trailing_date(text),
            banner: text.to_string(),
        })
    }

    /// Feeds one Xen line (after `(XEN) `): the banner, then the changeset and scheduler lines.
    pub fn feed(build: &mut Option<XenBuild>, text: &str) {
        if let Some(b) = build {
            if let Some(cs) = text.strip_prefix("Latest ChangeSet: ") {
                b.changeset = Some(cs.trim().to_string());
            }
            if let Some(s) = text.strip_prefix(SCHEDULER) {
                b.scheduler = Some(s.trim().to_string());
            }
        } else {
            *build = XenBuild::from_banner(text);
        }
    }
}

impl XenBuild {
    /// The lines `feed` needs to rebuild this (for a saved lab).
    pub fn lines(&self) -> Vec<String> {
        let mut v = vec![self.banner.clone()];
        v.extend(
            self.changeset
                .iter()
                .map(|c| format!("Latest ChangeSet: {c}")),
        );
        v.extend(self.scheduler.iter().map(|s| format!("{SCHEDULER}{s}")));
        v
    }
}

/// How Xen's boot names its scheduler (`xen/common/sched/core.c`, `scheduler_init`).
pub const SCHEDULER: &str = "Using scheduler: ";

/// Whether saved banner lines name the scheduler (labs saved before they did are saved again).
pub fn names_scheduler(lines: &[String]) -> bool {
    lines.iter().any(|l| l.starts_with(SCHEDULER))
}

/// The lab's lines at the top of a domU run's serial.log, for its readers (the report): the
/// xenstored dom0 runs, and for a restored run (saved lab's name, its saved lines) Xen's boot
/// lines kept with the lab (banner, scheduler), which its own serial stream lacks. `XPLAB `
/// marks them as the lab's, not the machine's.
pub fn serial_head(xenstored: &str, restored: Option<(&str, Vec<String>)>) -> Vec<String> {
    let mut head = Vec::new();
    if let Some((name, saved)) = restored {
        head.push(format!(
            "XPLAB restored saved lab {name}: Xen's lines from its boot (saved with it):"
        ));
        head.extend(saved.iter().map(|l| format!("XPLAB saved| (XEN) {l}")));
    }
    head.push(format!("{}{xenstored}", xp_host::console::LAB_XENSTORED));
    head
}

/// `date`'s output at the end of a line ("Wed Nov  4 16:52:28 UTC 2026": 6 words).
fn trailing_date(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let tail = words.get(words.len().checked_sub(6)?..)?.join(" ");
    let nul = format!("\0{tail}\0");
    super::image::compile_date(nul.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_and_upstream_banners() {
        let deb = "Xen version 4.17.7 (Debian 4.17.7+13-g2445b30a44-0+deb12u1) \
                   (pkg-xen-devel@lists.alioth.debian.org) (x86_64-linux-gnu-gcc (Debian \
                   12.2.0-14+deb12u1) 12.2.0) debug=n Wed Nov  4 16:52:28 UTC 2026";
        let mut b = None;
        XenBuild::feed(&mut b, "Bootloader: multiboot");
        XenBuild::feed(&mut b, deb);
        XenBuild::feed(
            &mut b,
            "Latest ChangeSet: Tue Oct 1 12:00:00 2024 git:abc123",
        );
        assert!(!names_scheduler(&b.as_ref().unwrap().lines()));
        XenBuild::feed(
            &mut b,
            "Using scheduler: SMP Credit Scheduler rev2 (credit2)",
        );
        let b = b.unwrap();
        assert_eq!(
            b.scheduler.as_deref(),
            Some("SMP Credit Scheduler rev2 (credit2)")
        );
        let mut again = None;
        for l in b.lines() {
            XenBuild::feed(&mut again, &l);
        }
        assert_eq!(again.as_ref(), Some(&b), "a saved lab's lines rebuild it");
        assert!(names_scheduler(&b.lines()));
        assert_eq!(
            (b.version.as_str(), b.extraversion.as_str()),
            ("4.17", ".7")
        );
        assert_eq!(
            b.compile_date.as_deref(),
            Some("Wed Nov 4 16:52:28 UTC 2026")
        );
        assert_eq!(
            b.changeset.as_deref(),
            Some("Tue Oct 1 12:00:00 2024 git:abc123")
        );
        let up = XenBuild::from_banner(
            "Xen version 4.22-unstable (me@here) (gcc (GCC) 12) debug=y Mon Jan  5 01:02:03 CET 2026",
        )
        .unwrap();
        assert_eq!(
            (up.version.as_str(), up.extraversion.as_str()),
            ("4.22", "-unstable")
        );
        assert!(XenBuild::from_banner("Xen version x").is_none());
    }

    /// What a restored run's serial.log starts with names Xen, its scheduler and xenstored
    /// in the report, as a cold boot's own banner does.
    #[test]
    fn a_restored_runs_serial_log_names_xen_its_scheduler_and_xenstored() {
        let mut b = XenBuild::from_banner("Xen version 4.17.7 (Debian 4.17.7+13) debug=n").unwrap();
        b.scheduler = Some("SMP Credit Scheduler (credit)".into());
        let head = serial_head("xenstored", Some(("abc", b.lines())));
        assert_eq!(
            head[2],
            "XPLAB saved| (XEN) Using scheduler: SMP Credit Scheduler (credit)"
        );
        let console = "XPC|@xp {\"kind\":\"start\",\"version\":\"0.1.0\",\"cmdline\":\"probes=platform\",\"mode\":\"domU\"}\nXPC|Test result: SUCCESS\n";
        let log = format!("{}\n{console}", head.join("\n"));
        let e = xp_host::report::from_log("serial.log".into(), &log).env;
        assert_eq!(e.xen_version.as_deref(), Some("4.17.7"));
        assert_eq!(e.scheduler.as_deref(), Some("credit"));
        assert_eq!(e.xenstored.as_deref(), Some("xenstored"));
        let cold = serial_head("oxenstored", None).join("\n") + "\n" + console;
        let e = xp_host::report::from_log("serial.log".into(), &cold).env;
        assert_eq!(e.xenstored.as_deref(), Some("oxenstored"));
    }
}
