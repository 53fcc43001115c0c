//! The command line (clap): every subcommand has --help, the binary --version.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// xenprobe on a Xen host: boot the embedded probe with xl, report on its console, follow
/// stall runs and serve them to Prometheus.
///
/// Exit codes of create, report and follow are the run's verdict (xtf-runner's): 0 SUCCESS,
/// 3 SKIP, 4 ERROR, 5 FAILURE, 6 CRASH (no result line); compare exits 5 when something
/// regressed, else 0. A bad option, a bad input or a broken environment is 4 with a message
/// saying what to do.
#[derive(Debug, Parser)]
#[command(name = "xenprobe", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Boot the embedded probe as a PV guest with `xl create -c` (as root in dom0), stream
    /// its console and exit with its verdict.
    Create(Create),
    /// Write the xl config and the probe image for hosts where someone else runs xl.
    XlConfig(XlConfig),
    /// Summarise a probe console log or a run's JSON: verdict, failed checks, figures,
    /// stalls; exit with its verdict. --out writes an HTML report with plots.
    Report(Report),
    /// Compare runs side by side: figures with ratios to the first, checks that changed
    /// verdict; exit 5 when something regressed.
    Compare(Compare),
    /// Follow a growing console log: print each stall and summary as it arrives; with
    /// --metrics, serve them to Prometheus.
    Follow(Follow),
    /// Dom0-side peers of the probe (the lab runs these; so can a host).
    #[command(subcommand)]
    Peer(Peer),
    /// Print a shell completion script (e.g. `xenprobe completions bash >
    /// /etc/bash_completion.d/xenprobe`).
    Completions(Completions),
}

/// What the probe domain is.
#[derive(Debug, Args, Clone)]
pub struct Domain {
    /// The probe command line (xl extra=), e.g. "probes=stall duration=0 stall.threshold=200ms".
    #[arg(long, default_value = xp_host::xlcfg::DEFAULT_CMDLINE)]
    pub cmdline: String,
    /// Guest memory in MiB (4 is libxc's floor for a 64-bit PV guest).
    #[arg(long, default_value_t = 4, value_name = "MIB")]
    pub memory: u32,
    /// The domain's name.
    #[arg(long, default_value = xp_host::xlcfg::DEFAULT_NAME)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct Create {
    #[command(flatten)]
    pub domain: Domain,
    /// Print the xl config instead of running xl (nothing is written).
    #[arg(long)]
    pub print_config: bool,
    /// Also show the @xp records (machine lines); the console log always has them.
    #[arg(long)]
    pub raw: bool,
    /// Where the probe image, the xl config and the console log go.
    #[arg(long, default_value = "/var/lib/xenprobe", value_name = "DIR")]
    pub dir: PathBuf,
    /// The full console (human lines and @xp records, after `xl info`), for `report`
    /// [default: DIR/NAME.log].
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Seconds the probe may run; then the domain is destroyed and the verdict is CRASH
    /// (default: no limit, e.g. for `duration=0` stall runs).
    #[arg(long, value_name = "S")]
    pub timeout: Option<u64>,
    /// The xl binary.
    #[arg(long, default_value = "xl", value_name = "PATH")]
    pub xl: String,
}

#[derive(Debug, Args)]
pub struct XlConfig {
    #[command(flatten)]
    pub domain: Domain,
    /// Where the config goes.
    #[arg(long, default_value = "xenprobe.cfg", value_name = "FILE")]
    pub out: PathBuf,
    /// Where the probe image goes.
    #[arg(long, default_value = "xenprobe-probe.elf", value_name = "FILE")]
    pub image: PathBuf,
    /// kernel= as the Xen host sees it, when the files are copied there [default: the
    /// image's absolute path].
    #[arg(long, value_name = "PATH")]
    pub kernel_path: Option<String>,
}

#[derive(Debug, Args)]
pub struct Follow {
    /// The console log (a xenconsoled guest log, an `xl console` capture being written).
    pub log: PathBuf,
    /// Serve Prometheus/OpenMetrics metrics on ADDR (e.g. 127.0.0.1:9756) at /metrics; keeps
    /// serving after the result line until stopped.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Run CMD (with sh -c) for each stall, its fields in XENPROBE_STALL_* variables.
    #[arg(long, value_name = "CMD")]
    pub on_stall: Option<String>,
    /// Seconds an --on-stall command may run before it is killed.
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub on_stall_timeout: u64,
    /// Also print every line of the console as it arrives (@xp records included).
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct Report {
    /// The console log (`create`'s NAME.log, a xenconsoled guest log, an `xl console`
    /// capture, a lab serial.log) or a `cargo xtask run --json` file.
    pub input: PathBuf,
    /// Also write DIR/index.html (verdict, failed checks, SVG plots, every table),
    /// junit.xml, results.json and summary.txt.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// JUnit XML: a testsuite per probe, a testcase per check.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The report as JSON (verdict, environment, checks, figures, stalls).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Xen's trace of the run (xentrace output): each stall gets the guest vCPUs' events
    /// around it [default: export/xentrace.bin or xentrace.bin beside the log].
    #[arg(long, value_name = "FILE")]
    pub xentrace: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Compare {
    /// Two or more console logs, `run --json` or `bench --json` files; ratios are to the
    /// first.
    #[arg(required = true, num_args = 2.., value_name = "RUN")]
    pub inputs: Vec<PathBuf>,
    /// What counts as a regression: worse by more than PERCENT.
    #[arg(long, default_value_t = 10.0, value_name = "PERCENT")]
    pub threshold: f64,
    /// Also write DIR/comparison.txt and DIR/index.html with the table, linking each run's
    /// own report (DIR/A/, DIR/B/, ...).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Completions {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum Peer {
    /// The dom0 end of the vchan probe's echo mode: lines through dom0's vchan-socket-proxy,
    /// each round trip timed here (CLOCK_MONOTONIC), every byte verified.
    VchanEcho(VchanEcho),
}

#[derive(Debug, Args)]
pub struct VchanEcho {
    /// The probe domain's id.
    pub domid: u32,
    /// The vchan's xenstore path (`/local/domain/DOMID/data/vchan-echo`).
    pub path: String,
    /// Lines to send.
    #[arg(long, default_value_t = 100)]
    pub messages: usize,
    /// Seconds to wait for each line to come back.
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub timeout: u64,
    /// The libxenvchan client to run.
    #[arg(long, default_value = "vchan-socket-proxy", value_name = "PATH")]
    pub proxy: String,
}
