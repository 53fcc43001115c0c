//! The `xenprobe` binary as a user runs it: help, bad options, xl-config, `create` against a
//! stand-in xl (a script printing a recorded console), `follow` on good and bad logs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xenprobe");

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xp-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (s(&o.stdout), s(&o.stderr))
}

#[test]
fn help_everywhere_version_and_bad_options() {
    for sub in [
        "create",
        "xl-config",
        "follow",
        "report",
        "compare",
        "completions",
        "peer",
        "peer vchan-echo",
    ] {
        let args: Vec<&str> = sub.split(' ').chain(["--help"]).collect();
        let o = run(&args);
        assert!(o.status.success(), "{sub} --help");
        assert!(text(&o).0.contains("Usage: xenprobe"), "{sub}");
    }
    let o = run(&["--version"]);
    assert_eq!(
        text(&o).0.trim(),
        format!("xenprobe {}", env!("CARGO_PKG_VERSION"))
    );
    let o = run(&["create", "--memory", "lots"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        text(&o)
            .1
            .contains("invalid value 'lots' for '--memory <MIB>'"),
        "{:?}",
        text(&o)
    );
    let o = run(&["completions", "bash"]);
    assert!(o.status.success() && text(&o).0.contains("xl-config"));
}

#[test]
fn xl_config_writes_the_image_and_a_config_naming_it() {
    let d = tmp("xlcfg");
    let (cfg, img) = (d.join("p.cfg"), d.join("img/probe.elf"));
    let o = run(&[
        "xl-config",
        "--out",
        cfg.to_str().unwrap(),
        "--image",
        img.to_str().unwrap(),
        "--cmdline",
        "probes=timer",
        "--memory",
        "8",
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let c = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        c.contains(&format!("kernel = \"{}\"", img.display())),
        "{c}"
    );
    assert!(
        c.contains("memory = 8") && c.contains("extra = \"probes=timer\""),
        "{c}"
    );
    assert_eq!(&std::fs::read(&img).unwrap()[..4], b"\x7fELF");
    let o = run(&[
        "xl-config",
        "--out",
        cfg.to_str().unwrap(),
        "--image",
        img.to_str().unwrap(),
        "--memory",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(4));
    assert!(text(&o).1.contains("at least 4 MiB"));
}

/// A stand-in for xl: `info` prints a line, `create -c CFG` prints `console` and exits `rc`.
fn fake_xl(d: &Path, console: &str, rc: i32) -> PathBuf {
    let xl = d.join("xl");
    std::fs::write(d.join("console.txt"), console).unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n info) echo 'xen_version : 4.17.7' ;;\n \
         create) [ \"$2\" = -c ] && grep -q 'kernel = ' \"$3\" && cat {}; exit {rc} ;;\n \
         destroy) echo destroyed >> {} ;;\nesac\n",
        d.join("console.txt").display(),
        d.join("destroyed").display()
    );
    std::fs::write(&xl, script).unwrap();
    Command::new("chmod").arg("+x").arg(&xl).status().unwrap();
    xl
}

#[test]
fn create_shows_human_lines_logs_everything_and_exits_with_the_verdict() {
    let d = tmp("create");
    let console = "xenprobe 0.1.0\r\n@xp {\"kind\":\"start\"}\r\n  [FAIL] timer.x\r\n@xp {\"kind\":\"check\",\"verdict\":\"fail\"}\r\nTest result: FAILURE\r\n";
    let xl = fake_xl(&d, console, 0);
    let args = [
        "create",
        "--xl",
        xl.to_str().unwrap(),
        "--dir",
        d.to_str().unwrap(),
    ];
    let o = run(&args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}{err}");
    assert_eq!(
        out,
        "xenprobe 0.1.0\n  [FAIL] timer.x\nTest result: FAILURE\n"
    );
    let log = std::fs::read_to_string(d.join("xenprobe.log")).unwrap();
    assert!(
        log.starts_with("xen_version : 4.17.7\n") && log.contains("@xp {\"kind\":\"check\""),
        "{log}"
    );
    let raw = run(&[&args[..], &["--raw"]].concat());
    assert!(text(&raw).0.contains("@xp {\"kind\":\"start\"}"));
}

#[test]
fn create_without_result_is_crash_and_xl_failure_is_an_error() {
    let d = tmp("crash");
    let xl = fake_xl(&d, "xenprobe 0.1.0\n(cut)\n", 0);
    let o = run(&[
        "create",
        "--xl",
        xl.to_str().unwrap(),
        "--dir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(6));
    assert!(text(&o).1.contains("verdict CRASH"), "{:?}", text(&o));
    let xl = fake_xl(&d, "", 3);
    let o = run(&[
        "create",
        "--xl",
        xl.to_str().unwrap(),
        "--dir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        text(&o).1.contains("before the probe printed anything"),
        "{:?}",
        text(&o)
    );
    let o = run(&[
        "create",
        "--xl",
        "/nonexistent/xl",
        "--dir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        text(&o).1.contains("is this dom0 of a Xen host"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn create_timeout_destroys_the_domain() {
    let d = tmp("timeout");
    let xl = d.join("xl");
    let pid = d.join("pid");
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n create) echo $$ > {p}; echo started; exec sleep 30 ;;\n \
         destroy) echo destroyed > {}; kill $(cat {p}) ;;\nesac\n",
        d.join("destroyed").display(),
        p = pid.display()
    );
    std::fs::write(&xl, script).unwrap();
    Command::new("chmod").arg("+x").arg(&xl).status().unwrap();
    let t = Instant::now();
    let o = run(&[
        "create",
        "--xl",
        xl.to_str().unwrap(),
        "--dir",
        d.to_str().unwrap(),
        "--timeout",
        "1",
    ]);
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(6), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("longer than --timeout 1 s"),
        "{:?}",
        text(&o)
    );
    assert!(
        d.join("destroyed").exists(),
        "xl destroy was not called: {:?}",
        text(&o)
    );
}

fn follow_log(lines: &str, extra: &[&str]) -> (Output, PathBuf) {
    let d = tmp(&format!("follow{}", lines.len()));
    let log = d.join("console.log");
    std::fs::write(&log, lines).unwrap();
    let mut args = vec!["follow", log.to_str().unwrap()];
    args.extend_from_slice(extra);
    (run(&args), d)
}

const STALL: &str = "@xp {\"kind\":\"stall\",\"probe\":\"stall\",\"start_ns\":1,\"start_wall_ns\":0,\"gap_ns\":250000000,\"class\":\"preempted\",\"reason\":\"runnable most of the gap\",\"running_ns\":0,\"runnable_ns\":250000000,\"blocked_ns\":0,\"offline_ns\":0,\"blocked_past_deadline_ns\":0,\"runstate_coverage_permille\":1000}";

#[test]
fn follow_skips_bad_lines_and_names_them() {
    let log = format!("boot text\n@xp {{\"kind\":\"stall\",\"gap\n@xp [1]\nXPC|{STALL}\nnoise @xp {{\"kind\":\"x\"}}\nTest result: SUCCESS\n");
    let (o, _) = follow_log(&log, &[]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("warning: skipped line 2: unparseable @xp record"),
        "{out}"
    );
    assert!(
        out.contains("warning: skipped line 3: unparseable @xp record (not a JSON object)"),
        "{out}"
    );
    assert!(
        out.contains("warning: skipped line 5: an @xp record after other text"),
        "{out}"
    );
    assert!(
        out.contains("STALL system 1.00 ns     250 ms  preempted: runnable most of the gap"),
        "{out}"
    );
}

#[test]
fn follow_on_stall_failing_and_hanging_commands_are_reported_not_fatal() {
    let log = format!("{STALL}\n{STALL}\nTest result: SUCCESS\n");
    let (o, _) = follow_log(&log, &["--on-stall", "exit 3"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(err.matches("failed (exit status: 3)").count(), 2, "{err}");
    let t = Instant::now();
    let (o, _) = follow_log(&log, &["--on-stall", "sleep 60", "--on-stall-timeout", "1"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o)
            .1
            .contains("still running after 1 s (--on-stall-timeout): killed"),
        "{:?}",
        text(&o)
    );
    assert!(t.elapsed() < Duration::from_secs(30));
}

#[test]
fn follow_metrics_address_errors() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (o, _) = follow_log("Test result: SUCCESS\n", &["--metrics", &addr]);
    assert_eq!(o.status.code(), Some(4));
    assert!(text(&o).1.contains("already in use"), "{:?}", text(&o));
    let (o, _) = follow_log("Test result: SUCCESS\n", &["--metrics", "nowhere"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        text(&o).1.contains("bad --metrics address 'nowhere'"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn follow_warns_about_a_log_that_is_not_a_probe_log() {
    let d = tmp("notprobe");
    let log = d.join("syslog");
    std::fs::write(&log, "Nov 30 kernel: eth0 up\nNov 30 sshd: accepted\n").unwrap();
    let mut c = Command::new(BIN)
        .args(["follow", log.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = c.kill();
    let _ = c.wait();
    assert!(
        first.contains("2 lines and no @xp record so far: is this a xenprobe console log"),
        "{first}"
    );
}
