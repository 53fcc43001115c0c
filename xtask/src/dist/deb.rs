//! `cargo xtask dist --deb`: the static binary as a Debian package, written as deb(5) says
//! (an ar archive of `debian-binary`, `control.tar.gz` and `data.tar.gz`) with the ar, tar
//! and flate2 crates: /usr/bin/xenprobe, its bash completion and the README.

use anyhow::{Context, Result};
use flate2::{write::GzEncoder, Compression};
use std::path::Path;

/// What goes into the package.
pub struct Pkg<'a> {
    pub version: &'a str,
    pub binary: &'a [u8],
    pub completion: &'a [u8],
    pub readme: &'a [u8],
}

/// The files of the package: (path, mode, contents); directories end with '/'.
fn files<'a>(p: &Pkg<'a>) -> Vec<(&'static str, u32, &'a [u8])> {
    vec![
        ("./usr/", 0o755, b""),
        ("./usr/bin/", 0o755, b""),
        ("./usr/bin/xenprobe", 0o755, p.binary),
        ("./usr/share/", 0o755, b""),
        ("./usr/share/bash-completion/", 0o755, b""),
        ("./usr/share/bash-completion/completions/", 0o755, b""),
        (
            "./usr/share/bash-completion/completions/xenprobe",
            0o644,
            p.completion,
        ),
        ("./usr/share/doc/", 0o755, b""),
        ("./usr/share/doc/xenprobe/", 0o755, b""),
        ("./usr/share/doc/xenprobe/README.md", 0o644, p.readme),
    ]
}

/// The control file (deb-control(5)).
fn control(p: &Pkg) -> String {
    let kib = files(p)
        .iter()
        .map(|f| f.2.len())
        .sum::<usize>()
        .div_ceil(1024);
    format!(
        "Package: xenprobe\nVersion: {}\nArchitecture: amd64\nMaintainer: xenprobe maintainers \
         <maintainers@users.noreply.github.com>\nSection: admin\nPriority: optional\n\
         Installed-Size: {kib}\nDescription: \
         Xen conformance and latency probe for dom0\n The xenprobe host binary (static, the \
         probe image embedded): boots the PV\n probe with xl (xenprobe create), reports, \
         compares and follows its runs,\n and serves stalls to Prometheus.\n",
        p.version
    )
}

/// A gzipped tar of `entries` (owned by root).
fn tar_gz(entries: &[(&str, u32, &[u8])]) -> Result<Vec<u8>> {
    let mut t = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, mode, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(match path.ends_with('/') {
            true => tar::EntryType::Directory,
            false => tar::EntryType::Regular,
        });
        h.set_mode(*mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_username("root")?;
        h.set_groupname("root")?;
        h.set_size(data.len() as u64);
        t.append_data(&mut h, path, *data)?;
    }
    Ok(t.into_inner()?.finish()?)
}

/// Writes the package to `out`.
pub fn write(p: &Pkg, out: &Path) -> Result<()> {
    let control = control(p);
    let members = [
        ("debian-binary", b"2.0\n".to_vec()),
        (
            "control.tar.gz",
            tar_gz(&[("./control", 0o644, control.as_bytes())])?,
        ),
        ("data.tar.gz", tar_gz(&files(p))?),
    ];
    let f = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut a = ar::Builder::new(f);
    for (name, data) in members {
        let mut h = ar::Header::new(name.as_bytes().to_vec(), data.len() as u64);
        h.set_mode(0o644);
        a.append(&h, data.as_slice())?;
    }
    Ok(())
}
