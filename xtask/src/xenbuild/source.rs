//! Finding and fetching Debian's source package of the lab's Xen, and the `.config` of the
//! binary package built from it.
//!
//! The source comes through a private apt configuration (`apt/`: deb-src lines for the suite
//! and its security updates, on the mirrors the host's apt uses; the host's sources are
//! untouched). The lab's own version is tried first; when its source is not downloadable (a
//! security upload whose source the mirror does not carry), the newest other 4.17 source is
//! used and the choice is said.

use super::steps::{step, Step};
use super::{progress, RELEASE, SUITE};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Source {
    /// Debian source version, e.g. `4.17.5+72-g01140da4e8-1`.
    pub version: String,
    pub dsc: PathBuf,
    /// The `.config` Debian ships in xen-hypervisor-4.17-amd64 of that version.
    pub config: String,
}

const CHOSEN: &str = "chosen-version";

pub fn resolve(d: &Path) -> Result<Source> {
    let dl = d.join("dl");
    fs::create_dir_all(&dl)?;
    world_writable(&dl)?;
    let lab = lab_version()?;
    let version = match cached_choice(&dl, &lab) {
        Some(v) => v,
        None => fetch(d, &dl, &lab)?,
    };
    let config = config(&dl, &version)?;
    Ok(Source {
        dsc: dsc(&dl, &version),
        version,
        config,
    })
}

/// The version of xen-hypervisor the lab provisioned (from its stamp).
fn lab_version() -> Result<String> {
    let assets = crate::lab::provision(crate::lab::Release::X417, false)?;
    let pkg = format!("xen-hypervisor-{RELEASE}-amd64=");
    assets
        .stamp
        .lines()
        .find_map(|l| l.strip_prefix(&pkg).map(String::from))
        .with_context(|| format!("the lab cache stamp names no {pkg}VERSION"))
}

fn dsc(dl: &Path, version: &str) -> PathBuf {
    // Debian file names drop the epoch; 4.17 versions have none.
    dl.join(format!("xen_{version}.dsc"))
}

/// A version fetched before (the lab's, or the recorded fallback), without the network.
fn cached_choice(dl: &Path, lab: &str) -> Option<String> {
    if dsc(dl, lab).is_file() {
        return Some(lab.to_string());
    }
    let v = fs::read_to_string(dl.join(CHOSEN)).ok()?;
    let v = v.trim().to_string();
    dsc(dl, &v).is_file().then_some(v)
}

fn fetch(d: &Path, dl: &Path, lab: &str) -> Result<String> {
    let apt = apt_config(d)?;
    let mut tried = Vec::new();
    for v in candidates(&apt, lab)? {
        let mut c = apt.cmd("apt-get");
        c.args(["source", "--download-only", &format!("xen={v}")])
            .current_dir(dl);
        match step(&Step::new("fetch the source package", c, dl)) {
            Ok(()) if dsc(dl, &v).is_file() => {
                if v != lab {
                    progress(&format!(
                        "the lab's xen {lab} has no downloadable source here ({}): using xen {v}",
                        tried.join("; ")
                    ));
                }
                fs::write(dl.join(CHOSEN), &v)?;
                return Ok(v);
            }
            Ok(()) => tried.push(format!("{v}: no .dsc after download")),
            Err(e) => tried.push(format!("{v}: {}", apt_error(&e.to_string()))),
        }
    }
    bail!(
        "no xen {RELEASE} source package could be fetched ({})",
        tried.join("; ")
    )
}

/// apt's own reason (its first `E:` line), else the first line.
fn apt_error(s: &str) -> &str {
    s.lines()
        .find_map(|l| l.trim().strip_prefix("E: "))
        .or_else(|| s.lines().next())
        .unwrap_or("")
}

/// The lab's version first, then every other 4.17 source apt knows (newest first).
fn candidates(apt: &Apt, lab: &str) -> Result<Vec<String>> {
    let out = apt.output(apt.cmd("apt-cache").args(["showsrc", "xen"]))?;
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Version: "))
        .filter(|v| v.starts_with(&format!("{RELEASE}.")) && *v != lab)
        .map(String::from)
        .collect();
    v.sort_by(|a, b| b.cmp(a));
    v.insert(0, lab.to_string());
    Ok(v)
}

/// The `.config` beside the binary: from the lab's unpacked package when it is the same
/// version, else from that version's xen-hypervisor package (apt-get download, as the lab).
fn config(dl: &Path, version: &str) -> Result<String> {
    let name = format!("boot/xen-{RELEASE}-amd64.config");
    if lab_version()? == version {
        let root = crate::lab::provision(crate::lab::Release::X417, false)?.root;
        let p = root.join(&name);
        return fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()));
    }
    let pkg = format!("xen-hypervisor-{RELEASE}-amd64");
    let deb = dl.join(format!("{pkg}_{version}_amd64.deb"));
    if !deb.is_file() {
        // The host's package lists: not while another xtask's `apt-get update` rewrites them.
        let _apt = crate::lab::host::apt_lock()?;
        let mut c = Command::new("apt-get");
        c.args(["download", &format!("{pkg}={version}")])
            .current_dir(dl);
        step(&Step::new(
            "download the binary package (for its .config)",
            c,
            dl,
        ))?;
    }
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("dpkg-deb --fsys-tarfile \"$0\" | tar -xO \"./$1\"")
        .arg(&deb)
        .arg(&name);
    let out = c.output().context("running dpkg-deb")?;
    if !out.status.success() || out.stdout.is_empty() {
        bail!("{} holds no ./{name}", deb.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// apt's `_apt` user must be able to write downloads.
fn world_writable(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o777))
        .with_context(|| format!("chmod 777 {}", p.display()))
}

/// A private apt configuration: deb-src lines for the suite and its security updates.
pub struct Apt {
    dir: PathBuf,
}

impl Apt {
    fn opts(&self) -> Vec<String> {
        let d = self.dir.display();
        vec![
            format!("-oDir::Etc::sourcelist={d}/sources.list"),
            format!("-oDir::Etc::sourceparts={d}/sources.list.d"),
            format!("-oDir::State={d}/state"),
            format!("-oDir::Cache={d}/cache"),
        ]
    }

    pub fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new(prog);
        c.args(self.opts());
        c
    }

    fn output(&self, c: &mut Command) -> Result<String> {
        let out = c.output().with_context(|| format!("cannot start {c:?}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn apt_config(d: &Path) -> Result<Apt> {
    let dir = d.join("apt");
    for sub in [
        "state/lists/partial",
        "cache/archives/partial",
        "sources.list.d",
    ] {
        fs::create_dir_all(dir.join(sub))?;
    }
    let policy = Command::new("apt-cache").arg("policy").output();
    let policy = policy.context("running apt-cache policy")?;
    let list = deb_src_lines(&String::from_utf8_lossy(&policy.stdout));
    if list.is_empty() {
        bail!("the host's apt has no {SUITE} archive (apt-cache policy): add Debian {SUITE} to its sources, run `apt-get update`");
    }
    fs::write(dir.join("sources.list"), list)?;
    let apt = Apt { dir };
    let mut c = apt.cmd("apt-get");
    c.args(["update", "-q"]);
    step(&Step::new("update the private apt source index", c, d))?;
    Ok(apt)
}

/// deb-src lines for the archives the host's apt uses for the suite (same mirrors, same
/// components), from `apt-cache policy` lines like ` 500 URI SUITE/COMPONENT amd64 Packages`.
pub fn deb_src_lines(policy: &str) -> String {
    let key = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]";
    let mut out: Vec<String> = Vec::new();
    for l in policy.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let [_, uri, dist, _, "Packages"] = f[..] else {
            continue;
        };
        let Some((suite, comp)) = dist.split_once('/') else {
            continue;
        };
        if suite == SUITE || suite == format!("{SUITE}-security") {
            let line = format!("deb-src {key} {uri} {suite} {comp}\n");
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out.concat()
}

#[cfg(test)]
mod tests {
    #[test]
    fn deb_src_lines_follow_the_host_archives() {
        let policy = " 100 /var/lib/dpkg/status\n     release a=now\n \
            500 http://m.example/debian-security bookworm-security/main amd64 Packages\n \
            500 http://m.example/debian bookworm-updates/main amd64 Packages\n \
            500 http://m.example/debian bookworm/main amd64 Packages\n \
            500 http://m.example/debian bookworm/main amd64 Packages\n";
        let k = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]";
        assert_eq!(
            super::deb_src_lines(policy),
            format!(
                "deb-src {k} http://m.example/debian-security bookworm-security main\n\
                 deb-src {k} http://m.example/debian bookworm main\n"
            )
        );
    }
}
