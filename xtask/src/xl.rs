//! `cargo xtask xl`: an xl config for a real Xen host (the built probe image, chosen probes,
//! memory), and the commands to run it and to report on its console. `--lab` boots that same
//! config in the virtual lab the way a user does on a real host (`xl create`, xenconsoled's
//! guest log, `cargo xtask report` on the log), see xl/lab.rs.

use crate::cli::Args;
use anyhow::{ensure, Context, Result};
use std::path::{Path, PathBuf};

mod lab;

pub const USAGE: &[&str] = &[
    "--cmdline \"...\"",
    "--memory MIB",
    "--name NAME",
    "--out FILE",
    "--kernel-path PATH",
    "--lab",
];

pub const HELP: &str = "\
  xl [options]       write an xl config for a real Xen host and print how to run and report on it
      --cmdline \"...\"        probe command line (xl extra=), default \"probes=platform,evtchn,timer\"
      --memory MIB           guest memory (default 4)
      --name NAME            domain name (default xenprobe)
      --out FILE             where the config goes (default xenprobe.cfg)
      --kernel-path PATH     kernel= as the Xen host sees it (default: the built image's path)
      --lab                  then boot this config in the lab with xl create, as on a real host";

/// What goes into the config.
pub struct XlCfg {
    pub name: String,
    pub kernel: String,
    pub memory_mib: u32,
    pub cmdline: String,
}

/// A value between double quotes in an xl config (xl's parser has no escapes).
fn quoted(what: &str, s: &str) -> Result<String> {
    ensure!(
        !s.contains(['"', '\\', '\n', '\r']),
        "{what} must not contain '\"', '\\' or a newline: {s:?}"
    );
    Ok(format!("\"{s}\""))
}

/// The xl config: the lab's keys (xtask/src/lab/config.rs), with real-host lifecycle actions:
/// the domain goes away when it powers off, and is kept for inspection when it crashes.
pub fn config(c: &XlCfg) -> Result<String> {
    ensure!(c.memory_mib >= 1, "memory must be at least 1 MiB");
    Ok(format!(
        "# xenprobe probe domain, written by `cargo xtask xl`; run it with `xl create -c FILE`\n\
         name = {}\ntype = \"pv\"\nkernel = {}\nmemory = {}\nmaxmem = {}\nvcpus = 1\nextra = {}\n\
         on_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"preserve\"\non_watchdog = \"destroy\"\n",
        quoted("the domain name", &c.name)?,
        quoted("the kernel path", &c.kernel)?,
        c.memory_mib,
        c.memory_mib,
        quoted("the guest command line", &c.cmdline)?,
    ))
}

/// `key = value` pairs of an xl config (comments and blank lines skipped, quotes removed).
pub fn keys(cfg: &str) -> Vec<(String, String)> {
    cfg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

pub fn main(mut a: Args) -> Result<i32> {
    let cmdline = a
        .value("--cmdline")?
        .unwrap_or_else(|| "probes=platform,evtchn,timer".into());
    let memory_mib = a
        .number("--memory", "MiB (4 is the floor for a 64-bit PV guest)")?
        .unwrap_or(4);
    let name = a
        .value("--name")?
        .unwrap_or_else(|| crate::lab::DOMAIN_NAME.into());
    let out = PathBuf::from(a.value("--out")?.unwrap_or_else(|| "xenprobe.cfg".into()));
    let kernel_path = a.value("--kernel-path")?;
    let in_lab = a.flag("--lab");
    a.finish()?;
    let elf = crate::build::kernel()?;
    let elf = elf
        .canonicalize()
        .with_context(|| format!("{}", elf.display()))?;
    let kernel = kernel_path.unwrap_or_else(|| elf.display().to_string());
    let cfg = XlCfg {
        name,
        kernel,
        memory_mib,
        cmdline,
    };
    let text = config(&cfg)?;
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    print!("{}", instructions(&out, &cfg, &elf));
    if in_lab {
        return lab::boot(&elf, &cfg);
    }
    Ok(0)
}

fn instructions(out: &Path, c: &XlCfg, elf: &Path) -> String {
    let cfg = out.display();
    let log = format!("/var/log/xen/console/guest-{}.log", c.name);
    format!(
        "wrote {cfg}: kernel {k}, {m} MiB, extra \"{x}\"\n\
         (kernel= is the image's path on the Xen host: for another machine, copy {elf}\n\
         there and write the config again with --kernel-path PATH-THERE)\n\
         \n\
         On the Xen host, as root in dom0:\n\
         \n\
         \x20 {{ xl info; xl create -c {cfg}; }} 2>&1 | tee xenprobe.log\n\
         \x20     console attached; the last line is `Test result: ...`; `xl info` first lets the\n\
         \x20     report name Xen's version and scheduler\n\
         \x20 cargo xtask report xenprobe.log --out xenprobe-report   # summary, plots, junit.xml\n\
         \n\
         Without a console attached (long stall runs, e.g. --cmdline \"probes=stall duration=0\"):\n\
         \x20 xenconsoled must log guests (--log=guest; --timestamp=guest adds times): Debian reads\n\
         \x20 XENCONSOLED_ARGS in /etc/default/xen, upstream's xencommons XENCONSOLED_TRACE=guest;\n\
         \x20 restart only xenconsoled: kill $(cat /run/xenconsoled.pid);\n\
         \x20 xenconsoled --log=guest --timestamp=guest --pid-file=/run/xenconsoled.pid\n\
         \x20 xl create {cfg}\n\
         \x20 cargo xtask report --follow {log}   # prints each stall as it ends\n\
         \x20 xl destroy {n}                       # ends a duration=0 run\n\
         \x20 cargo xtask report {log}             # the summary afterwards\n",
        k = c.kernel,
        m = c.memory_mib,
        x = c.cmdline,
        n = c.name,
        elf = elf.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> XlCfg {
        XlCfg {
            name: "xenprobe".into(),
            kernel: "/opt/xenprobe".into(),
            memory_mib: 4,
            cmdline: "probes=stall duration=0".into(),
        }
    }

    #[test]
    fn config_has_the_lab_keys_and_real_host_actions() {
        let k = keys(&config(&cfg()).unwrap());
        let get = |n: &str| k.iter().find(|(x, _)| x == n).map(|(_, v)| v.as_str());
        assert_eq!(get("kernel"), Some("/opt/xenprobe"));
        assert_eq!(get("extra"), Some("probes=stall duration=0"));
        assert_eq!(get("memory"), Some("4"));
        assert_eq!(get("on_poweroff"), Some("destroy"));
        assert_eq!(get("on_crash"), Some("preserve"));
        // Every key the lab's own config has (xtask/src/lab/config.rs, xl_config).
        let lab = [
            "name",
            "type",
            "kernel",
            "memory",
            "maxmem",
            "vcpus",
            "extra",
            "on_poweroff",
            "on_reboot",
            "on_crash",
            "on_watchdog",
        ];
        let mine: Vec<&str> = k.iter().map(|(x, _)| x.as_str()).collect();
        assert_eq!(mine, lab);
        assert!(config(&XlCfg {
            cmdline: "a\"b".into(),
            ..cfg()
        })
        .is_err());
    }
}
