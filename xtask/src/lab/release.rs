//! The Xen releases the lab provisions: Debian 12's Xen 4.17 (the host's own apt sources) and
//! Debian 13's Xen 4.20 (a private apt configuration under the cache: its own sources list,
//! state and archive directories, the host's apt sources left as they are). Each release has
//! its own cache directory, stamp and lock.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    /// Debian 12 "bookworm": Xen 4.17, Linux 6.1.
    X417,
    /// Debian 13 "trixie": Xen 4.20, Linux 6.12.
    X420,
}

/// Libraries the Xen tools need, besides the versioned libxenmisc.
const LIBS: &[&str] = &[
    "libxencall1",
    "libxenevtchn1",
    "libxenforeignmemory1",
    "libxengnttab1",
    "libxenstore4",
    "libxentoollog1",
    "libxendevicemodel1",
    "libxenhypfs1",
    "libxentoolcore1",
    "libyajl2",
    "libzstd1",
    "zlib1g",
    "liblzma5",
    "libuuid1",
    "libc6",
    "libgcc-s1",
];

impl Release {
    pub const ALL: [Release; 2] = [Release::X417, Release::X420];

    /// "4.17" / "4.20": the name options, scenarios and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Release::X417 => "4.17",
            Release::X420 => "4.20",
        }
    }

    pub fn parse(s: &str) -> Result<Release> {
        match Release::ALL.iter().find(|r| r.name() == s) {
            Some(r) => Ok(*r),
            None => bail!(
                "unknown Xen release '{s}' (accepted: {})",
                Release::names().join(", ")
            ),
        }
    }

    pub fn names() -> Vec<&'static str> {
        Release::ALL.iter().map(|r| r.name()).collect()
    }

    /// The Debian suite for a private apt configuration; `None`: the host's apt (Debian 12).
    pub fn private_suite(self) -> Option<&'static str> {
        match self {
            Release::X417 => None,
            Release::X420 => Some("trixie"),
        }
    }

    pub fn debian(self) -> &'static str {
        match self {
            Release::X417 => "Debian 12",
            Release::X420 => "Debian 13",
        }
    }

    /// Debian packages besides the real linux-image-*-amd64 (resolved from linux-image-amd64).
    pub fn packages(self) -> Vec<String> {
        let v = self.name();
        let mut p = vec![
            format!("xen-hypervisor-{v}-amd64"),
            format!("xen-utils-{v}"),
            "xen-utils-common".into(),
            "xenstore-utils".into(),
            "busybox-static".into(),
            format!("libxenmisc{v}"),
        ];
        p.extend(LIBS.iter().map(|s| s.to_string()));
        p
    }

    /// The tools' directory inside the unpacked packages (no leading '/').
    pub fn xen_bin(self) -> String {
        format!("usr/lib/xen-{}/bin", self.name())
    }

    /// The gzipped hypervisor inside the unpacked packages.
    pub fn xen_gz(self) -> String {
        format!("boot/xen-{}-amd64.gz", self.name())
    }

    /// This release's cache directory.
    pub fn dir(self, cache: &Path) -> PathBuf {
        cache.join(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_lists_accepted() {
        for r in Release::ALL {
            assert_eq!(Release::parse(r.name()).unwrap(), r);
        }
        let e = Release::parse("4.18").unwrap_err().to_string();
        assert_eq!(e, "unknown Xen release '4.18' (accepted: 4.17, 4.20)");
        assert!(Release::X420
            .packages()
            .contains(&"libxenmisc4.20".to_string()));
        assert_eq!(Release::X417.xen_bin(), "usr/lib/xen-4.17/bin");
    }
}
