//! The build, one named step at a time: build tools, unpack, patch, configure, make, install.
//! A failing step says which step, the command to run by hand, and the tail of its output
//! (the whole output of every step is in `<cache>/xen-planted/build.log`).

use super::source::Source;
use super::{patches, progress, RELEASE};
use crate::lab::host;
use anyhow::{bail, Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Debian packages the hypervisor build needs, by the program that shows each is there.
pub const BUILD_DEPS: &[(&str, &str)] = &[
    ("gcc", "gcc"),
    ("make", "make"),
    ("flex", "flex"),
    ("bison", "bison"),
    ("python3", "python3"),
    ("patch", "patch"),
    ("dpkg-source", "dpkg-dev"),
    ("xz", "xz-utils"),
];

/// Shown on every banner of the planted build: `Xen version 4.17.5-xenprobe-planted`.
pub const VENDOR_VERSION: &str = "-xenprobe-planted";

pub struct Step {
    name: &'static str,
    cmd: Command,
    /// Where the output goes besides the error message.
    log: PathBuf,
}

impl Step {
    pub fn new(name: &'static str, cmd: Command, dir: &Path) -> Step {
        Step {
            name,
            cmd,
            log: dir.join("step.log"),
        }
    }

    fn logged(mut self, log: PathBuf) -> Step {
        self.log = log;
        self
    }
}

/// Runs one step, appending its output to its log; on failure names the step and the command.
pub fn step(s: &Step) -> Result<()> {
    let shown = host::render(&s.cmd);
    eprintln!("[xen-build] {}: $ {shown}", s.name);
    let mut cmd = clone(&s.cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("Xen build step `{}`: cannot start `{shown}`", s.name))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let _ = append(&s.log, &format!("$ {shown}\n{text}\n"));
    if !out.status.success() {
        bail!(
            "Xen build step `{}` failed ({}); run it by hand to see why:\n  {shown}\n\
             last lines (all in {}):\n{}",
            s.name,
            out.status,
            s.log.display(),
            host::tail(&text, 25)
        );
    }
    Ok(())
}

fn append(log: &Path, text: &str) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().create(true).append(true).open(log)?;
    f.write_all(text.as_bytes())
}

/// `Command` is not Clone: rebuild it (program, args, directory, environment).
fn clone(c: &Command) -> Command {
    let mut n = Command::new(c.get_program());
    n.args(c.get_args());
    if let Some(d) = c.get_current_dir() {
        n.current_dir(d);
    }
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => n.env(k, v),
            None => n.env_remove(k),
        };
    }
    n
}

/// Installs the missing build tools with apt-get (root), or says the command to run.
pub fn ensure_build_deps() -> Result<()> {
    let missing: Vec<&str> = BUILD_DEPS
        .iter()
        .filter(|(prog, _)| host::which(prog).is_none())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !host::is_root() {
        bail!("Xen build step `build tools`: missing {list}: run `sudo apt-get install --no-install-recommends {list}`");
    }
    progress(&format!("installing the Xen build tools: {list}"));
    host::apt_install(&missing)
        .with_context(|| format!("Xen build step `build tools`: installing {list}"))
}

/// Unpack, patch, configure, build and install into `<d>/xen`.
pub fn build(d: &Path, src: &Source) -> Result<()> {
    ensure_build_deps()?;
    let log = d.join("build.log");
    let _ = fs::remove_file(&log);
    let tree = d.join("src");
    if tree.exists() {
        fs::remove_dir_all(&tree).with_context(|| format!("removing {}", tree.display()))?;
    }
    let mut c = Command::new("dpkg-source");
    c.arg("-x").arg(&src.dsc).arg(&tree).current_dir(d);
    step(&Step::new("unpack the source package", c, d).logged(log.clone()))?;
    for p in patches()? {
        let mut c = Command::new("patch");
        c.args(["-p1", "--forward", "--batch", "-i"])
            .arg(&p)
            .current_dir(&tree);
        step(&Step::new("apply the planted-fault patch", c, d).logged(log.clone()))?;
    }
    configure(&tree, src, &log)?;
    make(&tree, src, &log)?;
    install(d, &tree)
}

/// Debian's build: its `.config` into xen/, then `make -C xen olddefconfig`.
fn configure(tree: &Path, src: &Source, log: &Path) -> Result<()> {
    fs::write(tree.join("xen/.config"), &src.config)?;
    let c = make_cmd(tree, src, &["olddefconfig"]);
    step(&Step::new("configure (Debian's .config)", c, tree).logged(log.to_path_buf()))
}

fn make(tree: &Path, src: &Source, log: &Path) -> Result<()> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let c = make_cmd(tree, src, &[&format!("-j{jobs}")]);
    step(&Step::new("build the hypervisor", c, tree).logged(log.to_path_buf()))
}

/// `make -C xen`, with the environment Debian's rules give the hypervisor build.
fn make_cmd(tree: &Path, src: &Source, args: &[&str]) -> Command {
    let mut c = Command::new("make");
    c.args(["-C", "xen", "XEN_TARGET_ARCH=x86_64"])
        .arg(format!("XEN_VENDORVERSION={VENDOR_VERSION}"))
        .args(args)
        .current_dir(tree)
        .env("DEB_VERSION", &src.version)
        .env("WGET", "/bin/false")
        .env("GIT", "/bin/false");
    for v in [
        "CFLAGS",
        "CXXFLAGS",
        "CPPFLAGS",
        "LDFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        c.env_remove(v);
    }
    c
}

/// `xen/xen` is the multiboot image (what Debian gzips into /boot/xen-4.17-amd64.gz).
fn install(d: &Path, tree: &Path) -> Result<()> {
    let built = tree.join("xen/xen");
    let tmp = d.join("xen.tmp");
    fs::copy(&built, &tmp).with_context(|| {
        format!(
            "Xen build step `install`: no {} after make (Xen {RELEASE})",
            built.display()
        )
    })?;
    fs::rename(&tmp, d.join("xen"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_step_names_itself_the_command_to_run_by_hand_and_its_output() {
        let dir = std::env::temp_dir().join(format!("xp-xenbuild-step-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut c = Command::new("sh");
        c.args([
            "-c",
            "echo compiling; echo 'x86_emulate.h: No such file' >&2; exit 2",
        ])
        .current_dir(&dir);
        let e = step(&Step::new("build the hypervisor", c, &dir)).unwrap_err();
        let msg = format!("{e:#}");
        for want in [
            "Xen build step `build the hypervisor` failed (exit status: 2)",
            "run it by hand to see why:\n  (cd ",
            "sh -c 'echo compiling;",
            "x86_emulate.h: No such file",
        ] {
            assert!(msg.contains(want), "{want:?} in {msg}");
        }
        let log = fs::read_to_string(dir.join("step.log")).unwrap();
        assert!(log.contains("compiling"), "{log}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_program_is_named_with_the_step() {
        let dir = std::env::temp_dir();
        let c = Command::new("/nonexistent/xp-no-such-make");
        let e = step(&Step::new("configure (Debian's .config)", c, &dir)).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("Xen build step `configure (Debian's .config)`: cannot start `/nonexistent/xp-no-such-make`"),
            "{msg}"
        );
    }
}
