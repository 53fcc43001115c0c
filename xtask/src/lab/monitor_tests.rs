//! Replays of serial transcripts (trimmed from real runs) through the monitor.

use super::*;

fn replay(mode: Mode, transcript: &str) -> (Monitor, Vec<String>) {
    let mut m = Monitor::new(mode);
    m.enter(Stage::XenBoot, Duration::ZERO, "qemu started");
    let mut live = Vec::new();
    for (i, l) in transcript.lines().enumerate() {
        let t = Duration::from_millis(100 * i as u64);
        m.line(t, l.trim_start(), &mut |p| live.push(p.to_string()));
    }
    (m, live)
}

const DOMU_OK: &str = "\
    SeaBIOS (version 1.16.2-debian-1.16.2-1)
    (XEN) Xen version 4.17.7 (Debian 4.17.7+13-g2445b30a44-0+deb12u1)
    (XEN) Freed 656kB init memory
    [    0.000000] Linux version 6.1.0-56-amd64
    XPLAB stage=dom0-up t=3.31
    XPLAB stage=xenstored-ready t=3.69
    XPLAB stage=xl-create t=3.70
    XPX|Parsing config from /etc/xenprobe/probe.cfg
    XPLAB stage=guest-started t=4.42
    XPC|xenprobe 0.1.0 (domU) cmdline: \"\"\r
    XPX|Domain 1 has shut down, reason code 0 0x0
    XPX|Done. Exiting now
    XPC|Test result: SUCCESS\r
    XPLAB end reason=0
    XPLAB stage=finished t=5.23
    XPLAB done";

#[test]
fn domu_success() {
    let (m, live) = replay(Mode::DomU, DOMU_OK);
    assert_eq!(m.stage, Stage::Finished);
    assert_eq!(m.guest_end, GuestEnd::Poweroff);
    assert_eq!(
        live,
        [
            "xenprobe 0.1.0 (domU) cmdline: \"\"",
            "Test result: SUCCESS"
        ]
    );
    assert_eq!(m.probe_lines, live);
    assert_eq!(m.stop_at, Some(Duration::from_millis(1500)));
    assert!(m.failure(false, "").is_none());
    let stages: Vec<&str> = m.timings.iter().map(|(n, _)| n.as_str()).collect();
    assert!(stages.starts_with(&["XenBoot", "Dom0Boot", "dom0:dom0-up", "Xenstored"]));
}

#[test]
fn domu_xl_failure_quotes_xl() {
    let t = "\
        (XEN) Freed 656kB init memory
        XPLAB stage=dom0-up t=3.31
        XPLAB stage=xenstored-ready t=3.69
        XPX|xc: error: panic: xg_dom_x86.c:159: count_pgtables: not enough memory
        XPX|xl exited with status 3
        XPLAB fail stage=xl-create xl create -F failed (xl exited with status 3)
        XPD|--- xenstored log
        XPD|Xen Storage Daemon, version 1.0
        XPLAB done";
    let (m, _) = replay(Mode::DomU, t);
    assert_eq!(m.stage, Stage::XlCreate);
    assert_eq!(m.guest_end, GuestEnd::Unknown);
    let f = m.failure(false, "").unwrap();
    assert!(
        f.starts_with("stage xl create failed: xl-create: xl create -F failed"),
        "{f}"
    );
    assert!(f.contains("count_pgtables"), "{f}");
    assert!(f.contains("Xen Storage Daemon"), "{f}");
}

#[test]
fn domu_timeout_stays_in_probe_stage() {
    let t = "\
        (XEN) Freed 656kB init memory
        XPLAB stage=dom0-up t=3.31
        XPLAB stage=xenstored-ready t=3.69
        XPC|working...
        XPX|Domain 1 has been destroyed.
        XPLAB end timeout
        XPLAB done";
    let (m, _) = replay(Mode::DomU, t);
    assert_eq!((m.stage, m.guest_end), (Stage::Probe, GuestEnd::TimedOut));
    let f = m.failure(false, "").unwrap();
    assert!(
        f.starts_with("stage probe failed: the probe timed out"),
        "{f}"
    );
    assert!(f.contains("working..."), "{f}");
}

#[test]
fn domu_dom0_crash_is_a_lab_failure() {
    let t = "\
        (XEN) Freed 656kB init memory
        [    5.41] Kernel panic - not syncing: Attempted to kill init!
        (XEN) Hardware Dom0 crashed: 'noreboot' set - not rebooting.";
    let (m, _) = replay(Mode::DomU, t);
    assert_eq!(m.stage, Stage::Dom0Boot);
    assert_eq!(m.stop_at, Some(Duration::from_millis(200 + 300)));
    let f = m.failure(false, "").unwrap();
    assert!(
        f.starts_with("stage dom0 boot failed: dom0 Linux went down"),
        "{f}"
    );
    assert!(f.contains("Attempted to kill init"), "{f}");
}

#[test]
fn dom0_probe_lines_start_after_xen() {
    let t = "\
        SeaBIOS (version 1.16.2-debian-1.16.2-1)
        (XEN) Freed 656kB init memory
        xenprobe 0.1.0 (dom0)
        (d0) Test result: SUCCESS
        (XEN) Hardware Dom0 halted: halting machine";
    let (m, live) = replay(Mode::Dom0, t);
    assert_eq!(live, ["xenprobe 0.1.0 (dom0)", "Test result: SUCCESS"]);
    assert_eq!(
        (m.stage, m.guest_end),
        (Stage::Finished, GuestEnd::Poweroff)
    );
    assert_eq!(m.stop_at, Some(Duration::from_millis(400 + 50)));
    assert!(m.failure(false, "").is_none());
}

#[test]
fn dom0_exit_code_through_isa_debug_exit() {
    let (mut m, _) = replay(
        Mode::Dom0,
        "(XEN) Freed 656kB init memory\nTest result: FAILURE",
    );
    m.qemu_exited(Duration::from_secs(1), 11);
    assert_eq!((m.stage, m.guest_end), (Stage::Finished, GuestEnd::Exit(5)));
    assert!(m.failure(false, "").is_none());
}

#[test]
fn hard_timeout_and_early_qemu_exit_are_failures() {
    let (m, _) = replay(Mode::Dom0, "(XEN) Xen version 4.17.7");
    let f = m.failure(true, "").unwrap();
    assert!(f.starts_with("stage Xen boot failed: no progress"), "{f}");
    let f = m
        .failure(false, "qemu-system-x86_64: cannot load kernel")
        .unwrap();
    assert!(
        f.contains("QEMU ended before the probe did") && f.contains("cannot load kernel"),
        "{f}"
    );
}

#[test]
fn dom0_probe_hanging_until_the_hard_timeout_timed_out() {
    let (mut m, _) = replay(
        Mode::Dom0,
        "(XEN) Freed 656kB init memory\nstarting a long probe",
    );
    m.hard_timeout(Duration::from_secs(40));
    assert_eq!((m.stage, m.guest_end), (Stage::Probe, GuestEnd::TimedOut));
    let f = m.failure(true, "").unwrap();
    assert!(
        f.starts_with("stage probe failed: the probe timed out"),
        "{f}"
    );
    assert!(f.contains("starting a long probe"), "{f}");
}

#[test]
fn reason_codes() {
    assert_eq!(end_from_reason(0), GuestEnd::Poweroff);
    assert_eq!(end_from_reason(1), GuestEnd::Reboot);
    assert_eq!(end_from_reason(3), GuestEnd::Crash);
    assert_eq!(end_from_reason(4), GuestEnd::Other(4));
}

#[test]
fn banner_after_firmware_text_is_read() {
    let (m, _) = replay(
        Mode::DomU,
        "Booting from ROM..(XEN) Xen version 4.20.4 (Debian 4.20.4+63) (x@y) (gcc) debug=n Tue Oct 14 10:11:12 UTC 2025\n\
         (XEN) Latest ChangeSet: git:7abfd2bce2",
    );
    let b = m.xen_build.unwrap();
    assert_eq!(
        (b.version.as_str(), b.extraversion.as_str()),
        ("4.20", ".4")
    );
    assert_eq!(b.changeset.as_deref(), Some("git:7abfd2bce2"));
}

#[test]
fn dom0_deadline_counts_from_the_probes_first_line() {
    use crate::lab::run::hard_limit;
    let s = Duration::from_secs;
    let (m, _) = replay(Mode::Dom0, "(XEN) Freed 656kB init memory");
    assert_eq!(m.probe_started, None);
    // Not started yet: the boot allowance (8 s) on top of the timeout.
    assert_eq!(hard_limit(Mode::Dom0, s(3), m.probe_started), s(11));
    // Its banner, the transcript's third line: 200 ms after QEMU started.
    let (m, _) = replay(
        Mode::Dom0,
        "SeaBIOS\n(XEN) Freed 656kB init memory\nxenprobe 0.1.0 (dom0)",
    );
    assert_eq!(m.probe_started, Some(Duration::from_millis(200)));
    let t = Duration::from_millis(200) + s(3) + s(1);
    assert_eq!(hard_limit(Mode::Dom0, s(3), m.probe_started), t);
    // A slow boot does not shorten the probe's own time.
    assert_eq!(hard_limit(Mode::Dom0, s(3), Some(s(9))), s(13));
    // A domU's timeout is enforced inside the lab (dom0's init); the host allows for the boot.
    assert_eq!(hard_limit(Mode::DomU, s(3), Some(s(2))), s(93));
}
