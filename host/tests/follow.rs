//! `xenprobe follow` (and so `cargo xtask report --follow`, which runs it) on a log that is
//! still being written: lines acted on only when complete, each stall and summary printed as
//! it arrives, the end at the result line or a crash, a log that shrinks read again.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xenprobe");
const LOG: &str = include_str!("../../hostlib/src/report/testdata/stall-pause-serial.log");

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xp-follow-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `xenprobe follow LOG`, its stdout read line by line; killed when dropped.
struct Following {
    child: Child,
    lines: Receiver<String>,
    out: String,
}

impl Following {
    fn start(log: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["follow", log.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            stdout
                .lines()
                .map_while(Result::ok)
                .try_for_each(|l| tx.send(l))
        });
        Following {
            child,
            lines,
            out: String::new(),
        }
    }

    /// Reads output until a line contains `what`; false when `limit` passes first.
    fn until(&mut self, what: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while let Ok(l) = self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.out += &format!("{l}\n");
            if l.contains(what) {
                return true;
            }
        }
        false
    }

    /// The exit code (None: still running after `limit`) and everything printed.
    fn end(mut self, limit: Duration) -> (Option<i32>, String) {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Some(s) = self.child.try_wait().unwrap() {
                while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.out += &format!("{l}\n");
                }
                return (s.code(), std::mem::take(&mut self.out));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (None, std::mem::take(&mut self.out))
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The recorded stall run as xenconsoled logs it with `--timestamp=guest`.
fn xenconsoled_lines() -> Vec<String> {
    LOG.lines()
        .filter_map(|l| l.strip_prefix("XPC|"))
        .map(|l| format!("[2026-11-21 09:15:40] {l}"))
        .collect()
}

#[test]
fn follow_prints_stalls_and_summaries_as_the_log_grows_in_half_lines() {
    let d = tmp("grows");
    let path = d.join("guest-xenprobe.log");
    let fo = Following::start(&path); // before the log exists
    std::thread::sleep(Duration::from_millis(300));
    let mut f = std::fs::File::create(&path).unwrap();
    for l in xenconsoled_lines() {
        // Each line in two writes: the follower must not act on half a line.
        let (a, b) = l.split_at(l.len() / 2);
        write!(f, "{a}").unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        writeln!(f, "{b}").unwrap();
    }
    let (code, text) = fo.end(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{text}");
    let stalls: Vec<&str> = text.lines().filter(|l| l.starts_with("STALL ")).collect();
    assert_eq!(stalls.len(), 3, "{text}");
    assert!(
        stalls[0].starts_with("STALL 09:15:41.784 UTC")
            && stalls[0].contains("1.12 s  paused_offline: offline most of the gap"),
        "{text}"
    );
    let summaries: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("summary at "))
        .collect();
    assert_eq!(summaries.len(), 4, "{text}");
    assert!(
        summaries[0].starts_with("summary at 4 s: 1287 beats"),
        "{text}"
    );
    assert!(
        summaries[3].starts_with("summary at 12 s: 563 beats"),
        "{text}"
    );
    assert!(text.starts_with("run: xenprobe 0.1.0 (domU)"), "{text}");
    assert!(
        text.trim_end().ends_with("Test result: SUCCESS (exit 0)"),
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");
}

#[test]
fn follow_ends_at_once_at_a_crash_and_not_before_the_end() {
    let d = tmp("crash");
    let path = d.join("console.log");
    let start = "@xp {\"kind\":\"start\",\"version\":\"0.1.0\",\"cmdline\":\"probes=stall\",\"mode\":\"domU\"}\n";
    std::fs::write(&path, start).unwrap();
    let mut fo = Following::start(&path);
    assert!(fo.until("run: xenprobe", Duration::from_secs(10)));
    let (code, text) = fo.end(Duration::from_millis(1500));
    assert_eq!(
        code, None,
        "a log without its end is still followed: {text}"
    );
    let crash = "@xp {\"kind\":\"crash\",\"reason\":\"panic\",\"message\":\"boom\",\"location\":\"x.rs:1:2\"}\n";
    std::fs::write(&path, format!("{start}{crash}Test result: SUCCESS\n")).unwrap();
    let t = Instant::now();
    let (code, text) = Following::start(&path).end(Duration::from_secs(10));
    assert_eq!(code, Some(6), "{text}");
    assert!(t.elapsed() < Duration::from_secs(5), "at once");
    assert!(
        text.trim_end()
            .ends_with("CRASH: probe panicked: boom at x.rs:1:2"),
        "{text}"
    );
}

#[test]
fn follow_reads_a_log_that_shrank_again_from_the_top() {
    let d = tmp("shrank");
    let path = d.join("console.log");
    let long: String = xenconsoled_lines()
        .iter()
        .take(20)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, &long).unwrap();
    let mut fo = Following::start(&path);
    assert!(fo.until("STALL ", Duration::from_secs(10)), "{}", fo.out);
    std::fs::write(&path, "xenprobe 0.1.0\nTest result: SKIP\n").unwrap();
    let (code, text) = fo.end(Duration::from_secs(10));
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains(&format!(
            "-- {} shrank: reading it again from the top",
            path.display()
        )),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("Test result: SKIP (exit 3)"),
        "{text}"
    );
}

#[test]
fn follow_warns_about_a_result_line_with_another_word() {
    let d = tmp("word");
    let path = d.join("console.log");
    std::fs::write(&path, "Test result: MAYBE\nTest result: FAILURE\n").unwrap();
    let (code, text) = Following::start(&path).end(Duration::from_secs(10));
    assert_eq!(code, Some(5), "{text}");
    assert!(
        text.contains("warning: skipped line 1: not a result line: \"MAYBE\" (accepted: SUCCESS, SKIP, ERROR, FAILURE)"),
        "{text}"
    );
}
