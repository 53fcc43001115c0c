//! Host helpers: running commands (each printed to stderr first), root check, PATH lookup,
//! and the lab's progress lines.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Prints a progress line of the lab to stderr: `[lab 4.2s] dom0 up`.
pub fn progress(elapsed: Option<Duration>, msg: &str) {
    match elapsed {
        Some(t) => eprintln!("[lab {:.1}s] {msg}", t.as_secs_f64()),
        None => eprintln!("[lab] {msg}"),
    }
}

/// Renders a command the way a shell user would type it.
pub fn render(cmd: &Command) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut parts = vec![quote(&cmd.get_program().to_string_lossy())];
    parts.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    let dir = cmd
        .get_current_dir()
        .map(|d| format!("(cd {} && ", d.display()))
        .unwrap_or_default();
    let close = if dir.is_empty() { "" } else { ")" };
    format!("{dir}{}{close}", parts.join(" "))
}

/// Runs a command to completion, printing it first; returns stdout. Fails with its stderr.
pub fn run(cmd: &mut Command) -> Result<String> {
    eprintln!("[lab] $ {}", render(cmd));
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start {}", render(cmd)))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`{}` failed ({}):\n{}",
            render(cmd),
            out.status,
            tail(&err, 30)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    uid.and_then(|u| u.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0")
}

/// Looks a program up in PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Makes sure `prog` exists, installing the Debian package `pkg` with apt-get when root.
pub fn ensure_tool(prog: &str, pkg: &str) -> Result<PathBuf> {
    if let Some(p) = which(prog) {
        return Ok(p);
    }
    if !is_root() {
        bail!("`{prog}` is missing: install it with `sudo apt-get install --no-install-recommends {pkg}` (or run as root)");
    }
    progress(None, &format!("{prog} missing: installing {pkg}"));
    apt_install(&[pkg])?;
    which(prog).with_context(|| format!("`{prog}` still missing after installing {pkg}"))
}

/// Installs Debian packages (as root): `apt-get update`, then `apt-get install`, one xtask at
/// a time (`apt_lock`), waiting up to 10 min for dpkg's own lock if another program holds it.
pub fn apt_install(pkgs: &[&str]) -> Result<()> {
    let _one_at_a_time = apt_lock()?;
    run(apt_get().args(["update", "-q"]))?;
    run(apt_get()
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(pkgs))
    .map(drop)
}

/// `apt-get` told to wait for dpkg's lock instead of failing, and never to ask.
fn apt_get() -> Command {
    let mut c = Command::new("apt-get");
    c.args(["-o", "DPkg::Lock::Timeout=600"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    c
}

/// An exclusive flock that serialises this project's uses of the host's apt (`cargo xtask
/// test` runs its host checks beside the lab runs, and both may install packages; an
/// `apt-get update` rewrites the package lists another `apt-get` reads). Held until dropped.
pub fn apt_lock() -> Result<std::fs::File> {
    let path = std::env::temp_dir().join("xenprobe-apt.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_quotes_only_when_needed() {
        let mut c = Command::new("qemu-system-x86_64");
        c.args([
            "-append",
            "console=com1 dom0_mem=512M,max:512M",
            "-m",
            "1024",
        ]);
        assert_eq!(
            render(&c),
            "qemu-system-x86_64 -append 'console=com1 dom0_mem=512M,max:512M' -m 1024"
        );
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
