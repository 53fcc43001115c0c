//! `cargo xtask`: build xenprobe, boot it in the virtual lab, test it.
//!
//! Exit codes of `run` follow xtf-runner: 0 SUCCESS, 3 SKIP, 4 ERROR,
//! 5 FAILURE, 6 CRASH. A bad xtask option is an ERROR (4) with a message.

mod bench;
mod browser;
mod build;
mod cli;
mod dist;
mod lab;
mod matrix;
mod progress;
mod prom;
mod report;
mod run;
mod scenario;
mod summary;
mod test;
mod xenbuild;
mod xl;
mod xs_compare;
/// Xen's trace around each stall is the report library's (`xp_host::xtrace`); what a lab
/// scenario expects of it is checked here.
mod xtrace {
    pub mod expect;
}

use cli::Args;

const HELP: &str = "\
cargo xtask <command> [options]

commands:
  build              build the probe kernel (target/x86_64-unknown-none/release/xenprobe)
  run [options]      boot the probe in the virtual lab (QEMU + Xen + Debian dom0)
      --xen-release 4.17|4.20  Debian 12's Xen 4.17 (default) or Debian 13's Xen 4.20
      --dom0                 boot the probe as dom0 (hypervisor-only probes, no toolstack)
      --xenstored c|ocaml    which xenstored dom0 runs (default ocaml)
      --sched credit|credit2 Xen's scheduler (default credit2)
      --cmdline \"...\"        probe command line, e.g. \"probes=platform\"
      --memory MIB           domU memory (default 4, libxc's floor for a 64-bit PV guest)
      --timeout S            how long the probe may run (default 60)
      --dom0-script \"...\"    shell lines dom0 runs while the probe runs ($DOMID, $DOMNAME)
      --xen FILE             boot your own hypervisor (xen.gz or xen) with the release's dom0
      --dom0-kernel FILE     boot your own dom0 kernel (bzImage or PV vmlinux)
      --xen-args \"...\"       more options for Xen's command line
      --pcpus N              pCPUs of the lab machine (default 1; with 2+ dom0 gets pCPU 0)
      --vcpus N              vCPUs of the probe domain (default 1, at most --pcpus)
      --shared-dom0-cpu      with --pcpus 2+: dom0 and the probe share every pCPU
      --peer NAME:CMDLINE    one more probe domain after the main one
      --cold                 boot Xen and dom0 (no saved lab restored or saved)
      --json FILE            write all records, the verdict and lab timings as JSON
      --out DIR              where serial.log etc. go (default lab-out/run)
      --verbose              echo the raw serial console to stderr
      --raw                  also show the probe's @xp records (the log and --json have them)
  test [options]     host tests, lints, and every lab scenario in tests/lab/
      --host-only | --lab-only | --no-lint | --filter SUBSTRING | --xen-release 4.17|4.20
{REPORT}
{XL}
{BENCH}
{MATRIX}
{DIST}
{XENBUILD}

exit codes (run): 0 SUCCESS, 3 SKIP, 4 ERROR, 5 FAILURE, 6 CRASH";

fn main() {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let cmd = if argv.is_empty() {
        String::from("help")
    } else {
        argv.remove(0)
    };
    let res = match cmd.as_str() {
        "build" => build_cmd(Args::new("build", &[], argv)),
        "run" => run::main(Args::new("run", run::USAGE, argv)),
        "test" => test::main(Args::new("test", test::USAGE, argv)),
        "report" => report::main(Args::new("report", report::USAGE, argv)),
        "xl" => xl::main(Args::new("xl", xl::USAGE, argv)),
        "bench" => bench::main(Args::new("bench", bench::USAGE, argv)),
        "matrix" => matrix::main(Args::new("matrix", matrix::USAGE, argv)),
        "dist" => dist::main(Args::new("dist", &[], argv)),
        "xen-build" => xenbuild::main(Args::new("xen-build", xenbuild::USAGE, argv)),
        "help" | "--help" | "-h" => {
            let help = HELP
                .replace("{REPORT}", report::HELP)
                .replace("{XL}", xl::HELP);
            let help = help.replace("{DIST}", dist::HELP);
            let help = help.replace("{MATRIX}", matrix::HELP);
            let help = help.replace("{BENCH}", bench::HELP);
            println!("{}", help.replace("{XENBUILD}", xenbuild::HELP));
            Ok(0)
        }
        other => Err(anyhow::anyhow!(
            "unknown command '{other}' (accepted: build, run, test, report, xl, bench, matrix, dist, xen-build, help)"
        )),
    };
    match res {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            eprintln!("(see `cargo xtask help`)");
            std::process::exit(4);
        }
    }
}

fn build_cmd(a: Args) -> anyhow::Result<i32> {
    a.finish()?;
    let elf = build::kernel()?;
    let size = std::fs::metadata(&elf)?.len();
    println!("{} ({} bytes)", elf.display(), size);
    match build::stripped_size(&elf) {
        Ok(s) => println!("stripped image: {s} bytes ({:.0} KiB)", s as f64 / 1024.0),
        Err(e) => println!("stripped size unknown: {e}"),
    }
    Ok(0)
}
