//! What ran, in Xen's own words: the boot banner (`(XEN) Xen version 4.17.7 (...) ... debug=n
//! Wed Nov  4 16:52:28 UTC 2026`) and `(XEN) Latest ChangeSet: ...`, read from the serial log.

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
            compile_date: trailing_date(text),
            banner: text.to_string(),
        })
    }

    /// Feeds one Xen line (after `(XEN) `): the banner, then the changeset line.
    pub fn feed(build: &mut Option<XenBuild>, text: &str) {
        if let Some(b) = build {
            if let Some(cs) = text.strip_prefix("Latest ChangeSet: ") {
                b.changeset = Some(cs.trim().to_string());
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
        v
    }
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
        let b = b.unwrap();
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
}
