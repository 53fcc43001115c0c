//! `cargo xtask xl`: an xl config for a real Xen host (the built probe image, chosen probes,
//! memory), and the commands to run it and to report on its console. `--lab` boots that same
//! config in the virtual lab the way a user does on a real host (`xl create`, xenconsoled's
//! guest log, `cargo xtask report` on the log), see xl/lab.rs.

use crate::cli::Args;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use xp_host::xlcfg;
pub use xp_host::xlcfg::{keys, XlCfg};

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

/// The config text, as `cargo xtask xl` writes it (xp_host::xlcfg, shared with `xenprobe`).
pub fn config(c: &XlCfg) -> Result<String> {
    xlcfg::config(c, "`cargo xtask xl`")
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
