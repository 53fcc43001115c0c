//! The Prometheus test of `xenprobe follow --metrics` (part of `cargo xtask test`): a real
//! Prometheus (Debian's package, installed here with apt-get when missing) on a loopback port
//! with its own config and data directory scrapes `follow --metrics` while a recorded stall
//! log is replayed stall by stall; its HTTP API must show the stall counter rise with each
//! stall, the final verdict, and `promtool check metrics` must accept the exposition.

mod http;

use crate::build::{self, cargo};
use anyhow::{bail, ensure, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use xp_core::outcome::RECORD_PREFIX;
use xp_core::records::Record;

/// The recorded log: a lab run of `probes=stall` with three `xl pause` stalls.
const LOG: &str = "hostlib/src/report/testdata/stall-pause-serial.log";
const COUNTER: &str = "xenprobe_stalls_total{class=\"paused_offline\"}";

/// Children killed when the test ends, however it ends.
struct Kill(Vec<Child>);

impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn test() -> Result<()> {
    ensure_prometheus()?;
    build::run(cargo().args(["build", "--quiet", "-p", "xenprobe"]))?;
    let bin = xp_kbuild::target_dir().join("debug/xenprobe");
    let dir = std::env::temp_dir().join(format!("xenprobe-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data"))?;
    let res = scrape_replay(&bin, &dir);
    if res.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("prometheus test files kept in {}", dir.display());
    }
    res
}

/// apt-get the `prometheus` package (prometheus + promtool) unless both are on PATH.
fn ensure_prometheus() -> Result<()> {
    let have = |b: &str| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have("prometheus") && have("promtool") {
        return Ok(());
    }
    crate::lab::host::apt_install(&["prometheus"])
        .context("installing Debian's prometheus package (run as root)")
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn scrape_replay(bin: &Path, dir: &Path) -> Result<()> {
    let (mport, pport) = (free_port()?, free_port()?);
    let log = dir.join("console.log");
    std::fs::write(&log, "")?;
    let hooks = dir.join("hooks.txt");
    let hook = format!(
        "echo \"$XENPROBE_STALL_CLASS $XENPROBE_STALL_GAP_NS\" >> {}",
        hooks.display()
    );
    let follow = Command::new(bin)
        .args([
            "follow",
            &log.to_string_lossy(),
            "--metrics",
            &format!("127.0.0.1:{mport}"),
        ])
        .args(["--on-stall", &hook])
        .stdout(std::fs::File::create(dir.join("follow.out"))?)
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting xenprobe follow")?;
    let mut kids = Kill(vec![follow]);
    kids.0.push(prometheus(dir, mport, pport)?);
    let api = format!("127.0.0.1:{pport}");
    replay(&log, &api)?;
    wait_value(&api, "xenprobe_verdict{verdict=\"SUCCESS\"}", 1.0)?;
    let hooked = std::fs::read_to_string(&hooks).unwrap_or_default();
    ensure!(
        hooked.lines().count() == 3,
        "--on-stall ran {} times, not 3: {hooked:?}",
        hooked.lines().count()
    );
    promtool(&format!("127.0.0.1:{mport}"), dir)?;
    eprintln!("prometheus test: the stall counter rose 1, 2, 3 in Prometheus's API; verdict SUCCESS; promtool check metrics passed");
    Ok(())
}

fn prometheus(dir: &Path, mport: u16, pport: u16) -> Result<Child> {
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
             - job_name: xenprobe\n    static_configs:\n      - targets: ['127.0.0.1:{mport}']\n"
        ),
    )?;
    Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log"))?)
        .spawn()
        .context("starting prometheus")
}

/// Append the recorded log stall by stall; after each, Prometheus must have scraped the new
/// count before the next one is written.
fn replay(log: &Path, api: &str) -> Result<()> {
    let text = std::fs::read_to_string(build::root().join(LOG))?;
    let mut f = std::fs::OpenOptions::new().append(true).open(log)?;
    let mut stalls = 0;
    for line in text.lines() {
        writeln!(f, "{line}")?;
        let json = xp_host::console::strip_carriers(line).strip_prefix(RECORD_PREFIX);
        if matches!(json.map(Record::parse), Some(Ok(Record::Stall(_)))) {
            stalls += 1;
            f.flush()?;
            wait_value(api, COUNTER, stalls as f64)?;
        }
    }
    ensure!(stalls == 3, "{LOG} has {stalls} stalls, expected 3");
    Ok(())
}

/// Poll Prometheus's query API until `query` has the value `want` (60 s at most).
fn wait_value(api: &str, query: &str, want: f64) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(60);
    let mut last = String::from("no answer");
    while Instant::now() < end {
        match http::query(api, query) {
            Ok(Some(v)) if v == want => return Ok(()),
            Ok(v) => last = format!("{v:?}"),
            Err(e) => last = format!("{e:#}"),
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("Prometheus never showed {query} = {want} (last: {last})")
}

fn promtool(metrics: &str, dir: &Path) -> Result<()> {
    let body = http::get(metrics, "/metrics")?;
    let file: PathBuf = dir.join("exposition.txt");
    std::fs::write(&file, &body)?;
    let mut c = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .output_with_stdin(body.as_bytes())?;
    ensure!(
        c.0.success(),
        "promtool check metrics failed on {}: {}",
        file.display(),
        c.1
    );
    c.1.clear();
    Ok(())
}

trait WithStdin {
    fn output_with_stdin(&mut self, input: &[u8]) -> Result<(std::process::ExitStatus, String)>;
}

impl WithStdin for Command {
    fn output_with_stdin(&mut self, input: &[u8]) -> Result<(std::process::ExitStatus, String)> {
        let mut child = self
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting promtool")?;
        child.stdin.take().expect("piped").write_all(input)?;
        let o = child.wait_with_output()?;
        let text =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        Ok((o.status, text))
    }
}
