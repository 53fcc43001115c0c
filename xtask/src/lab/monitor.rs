//! Follows a run from its serial lines: stage transitions, probe/script/xl lines, how the probe
//! domain ended, and when QEMU can be ended. Pure (no I/O besides the progress lines), so a
//! transcript can be replayed in tests.

use super::classify::{classify, xl_event, Line, Marker, XenEvent, XlEvent};
use super::host::{progress, tail};
use super::{GuestEnd, Mode, Stage};
use std::collections::VecDeque;
use std::time::Duration;

const TAIL: usize = 30;

pub struct Monitor {
    mode: Mode,
    pub stage: Stage,
    pub guest_end: GuestEnd,
    pub probe_lines: Vec<String>,
    pub script_lines: Vec<String>,
    pub peer_lines: Vec<(String, String)>,
    pub timings: Vec<(String, Duration)>,
    /// Elapsed time (since QEMU start) at which QEMU should be ended, once the outcome is known.
    pub stop_at: Option<Duration>,
    /// When the probe's first line came (since QEMU start).
    pub probe_started: Option<Duration>,
    /// The lab (not the probe) failed: dom0 said so, or Xen/dom0 crashed.
    pub lab_failure: Option<String>,
    /// Xen's banner (version, extraversion, compile date, changeset).
    pub xen_build: Option<super::banner::XenBuild>,
    /// dom0 said `XPLAB ready` (the lab may be saved; it waits for the host's go).
    ready: bool,
    xl: Vec<String>,
    diag: Vec<String>,
    dom0: VecDeque<String>,
    xen: VecDeque<String>,
    serial: VecDeque<String>,
    done: bool,
}

fn push_tail(q: &mut VecDeque<String>, s: &str) {
    if q.len() == TAIL {
        q.pop_front();
    }
    q.push_back(s.to_string());
}

impl Monitor {
    pub fn new(mode: Mode) -> Self {
        Monitor {
            mode,
            stage: Stage::Provision,
            guest_end: GuestEnd::Unknown,
            probe_lines: Vec::new(),
            script_lines: Vec::new(),
            peer_lines: Vec::new(),
            timings: Vec::new(),
            stop_at: None,
            probe_started: None,
            lab_failure: None,
            xen_build: None,
            ready: false,
            xl: Vec::new(),
            diag: Vec::new(),
            dom0: VecDeque::new(),
            xen: VecDeque::new(),
            serial: VecDeque::new(),
            done: false,
        }
    }

    /// Moves forward to `stage` (never back) and records when.
    pub fn enter(&mut self, stage: Stage, t: Duration, what: &str) {
        if stage > self.stage {
            if stage == Stage::Probe {
                self.probe_started = Some(t);
            }
            self.stage = stage;
            self.timings.push((format!("{stage:?}"), t));
            progress(Some(t), what);
        }
    }

    fn stop_in(&mut self, t: Duration, grace_ms: u64) {
        let at = t + Duration::from_millis(grace_ms);
        self.stop_at = Some(self.stop_at.map_or(at, |s| s.min(at)));
    }

    /// Feeds one serial line (received `t` after QEMU started).
    pub fn line(&mut self, t: Duration, raw: &str, on_probe: &mut dyn FnMut(&str)) {
        push_tail(&mut self.serial, raw.trim_end_matches('\r'));
        // The banner may follow the firmware's last words on the same line.
        if let Some(i) = raw.find("(XEN) ") {
            super::banner::XenBuild::feed(&mut self.xen_build, raw[i + 6..].trim_end());
        }
        match classify(self.mode, self.stage >= Stage::Dom0Boot, raw) {
            Line::Xen(ev, text) => {
                push_tail(&mut self.xen, text);
                self.xen(t, ev, text)
            }
            Line::Probe(l) => {
                let what = if self.mode == Mode::Dom0 {
                    "probe (dom0) running"
                } else {
                    "probe running"
                };
                self.enter(Stage::Probe, t, what);
                on_probe(l);
                self.probe_lines.push(l.to_string());
            }
            Line::Script(l) => self.script_lines.push(l.to_string()),
            Line::Peer(name, l) => self.peer_lines.push((name.to_string(), l.to_string())),
            Line::Xl(l) => self.xl_line(t, l),
            Line::Diag(l) => self.diag.push(l.to_string()),
            Line::Marker(m) => self.marker(t, m),
            Line::Dom0(l) => push_tail(&mut self.dom0, l),
        }
    }

    fn xen(&mut self, t: Duration, ev: XenEvent, text: &str) {
        let dom0_mode = self.mode == Mode::Dom0;
        match ev {
            XenEvent::Dom0Start => {
                let what = if dom0_mode {
                    "xen up, starting the probe as dom0"
                } else {
                    "xen up, dom0 booting"
                };
                self.enter(Stage::Dom0Boot, t, what);
            }
            XenEvent::Dom0Halted | XenEvent::Dom0Reboot | XenEvent::Dom0Crashed if dom0_mode => {
                self.guest_end = match ev {
                    XenEvent::Dom0Halted => GuestEnd::Poweroff,
                    XenEvent::Dom0Reboot => GuestEnd::Reboot,
                    _ => GuestEnd::Crash,
                };
                self.enter(
                    Stage::Finished,
                    t,
                    &format!("probe ended: {:?}", self.guest_end),
                );
                self.stop_in(t, 50);
            }
            XenEvent::Dom0Halted | XenEvent::Dom0Reboot | XenEvent::Dom0Crashed if !self.done => {
                self.lab_failure
                    .get_or_insert_with(|| format!("dom0 Linux went down: {text}"));
                self.stop_in(t, 300);
            }
            XenEvent::Panic => {
                self.lab_failure
                    .get_or_insert_with(|| "Xen panicked".to_string());
                self.stop_in(t, 1000);
            }
            _ if text.contains("Manual reset required")
                || text.contains("Reboot in five seconds") =>
            {
                self.stop_in(t, 100)
            }
            _ => {}
        }
    }

    fn xl_line(&mut self, t: Duration, l: &str) {
        self.xl.push(l.to_string());
        if let Some(XlEvent::Shutdown { reason, .. }) = xl_event(l) {
            self.enter(Stage::Probe, t, "probe running");
            self.guest_end = end_from_reason(reason);
        }
    }

    fn marker(&mut self, t: Duration, m: Marker<'_>) {
        match m {
            Marker::Stage(s) => {
                self.timings.push((format!("dom0:{s}"), t));
                match s {
                    "dom0-up" => {
                        // Untagged lines from now on are init's (or a late kernel message).
                        self.dom0.clear();
                        self.enter(Stage::Xenstored, t, "dom0 up, starting xenstored")
                    }
                    "guest-started" => {
                        self.enter(Stage::Probe, t, "probe domain built and running")
                    }
                    "xenstored-ready" => {
                        self.enter(Stage::XlCreate, t, "xenstored ready, xl create")
                    }
                    _ => progress(Some(t), &format!("dom0: {s}")),
                }
            }
            Marker::EndReason(r) => self.ended(t, end_from_reason(r)),
            Marker::EndTimeout => self.ended(t, GuestEnd::TimedOut),
            Marker::EndUnknown => self.ended(t, self.guest_end),
            Marker::EndDestroyed => self.ended(t, GuestEnd::Destroyed),
            Marker::Fail { stage, msg } => {
                progress(
                    Some(t),
                    &format!("dom0 reports a failure in {stage}: {msg}"),
                );
                self.lab_failure
                    .get_or_insert_with(|| format!("{stage}: {msg}"));
            }
            Marker::Done => {
                self.done = true;
                self.stop_in(t, 0);
            }
            Marker::Other("ready") => self.ready = true,
            Marker::Other(_) => {}
        }
    }

    /// Whether dom0 became ready for its inputs since the last call.
    pub fn take_ready(&mut self) -> bool {
        std::mem::take(&mut self.ready)
    }

    /// dom0 reported the end of the probe domain (a timeout leaves the run in stage Probe).
    fn ended(&mut self, t: Duration, end: GuestEnd) {
        self.guest_end = end;
        self.enter(Stage::Probe, t, "probe running");
        if end == GuestEnd::TimedOut {
            progress(Some(t), "probe timed out");
        } else {
            self.enter(Stage::Finished, t, &format!("probe ended: {end:?}"));
        }
    }

    /// Dom0 mode: QEMU exited by itself with `status`.
    pub fn qemu_exited(&mut self, t: Duration, status: i32) {
        if self.mode == Mode::Dom0 && self.stage < Stage::Finished {
            if status % 2 == 1 {
                self.guest_end = GuestEnd::Exit(((status - 1) / 2) as u8);
                self.enter(
                    Stage::Finished,
                    t,
                    &format!("probe exited with code {}", (status - 1) / 2),
                );
            } else if status == 0 && self.stage >= Stage::Dom0Boot {
                self.guest_end = GuestEnd::Reboot;
                self.enter(Stage::Finished, t, "probe rebooted");
            }
        }
    }

    /// The host-side timeout expired (QEMU is being killed): a running probe timed out.
    pub fn hard_timeout(&mut self, t: Duration) {
        progress(Some(t), "host-side timeout: ending QEMU");
        if self.stage == Stage::Probe {
            self.guest_end = GuestEnd::TimedOut;
        }
    }

    /// The failure report, if the run did not end cleanly.
    pub fn failure(&self, timed_out_host: bool, qemu_stderr: &str) -> Option<String> {
        let why = if let Some(f) = &self.lab_failure {
            f.clone()
        } else if self.guest_end == GuestEnd::TimedOut {
            "the probe timed out".to_string()
        } else if timed_out_host {
            "no progress before the host-side timeout (QEMU killed)".to_string()
        } else if self.stage == Stage::Finished {
            return None;
        } else {
            "QEMU ended before the probe did".to_string()
        };
        let mut s = format!("stage {} failed: {why}", self.stage_name());
        let mut section = |title: &str, body: String| {
            if !body.trim().is_empty() {
                s.push_str(&format!("\n--- {title} ---\n{body}"));
            }
        };
        section("qemu stderr", tail(qemu_stderr, TAIL));
        if self.stage >= Stage::XlCreate {
            section("xl create output", tail(&self.xl.join("\n"), TAIL));
        }
        if self.stage >= Stage::Probe {
            section("last probe lines", tail(&self.probe_lines.join("\n"), TAIL));
        }
        section("dom0 diagnostics", self.diag.join("\n"));
        match self.stage {
            Stage::Xenstored | Stage::XlCreate => {
                section("dom0 console (untagged)", joined(&self.dom0))
            }
            Stage::Probe | Stage::Finished => section("xen (last lines)", joined(&self.xen)),
            _ => section("serial (last lines)", joined(&self.serial)),
        }
        Some(s)
    }

    fn stage_name(&self) -> &'static str {
        match self.stage {
            Stage::Provision => "provisioning",
            Stage::XenBoot => "Xen boot",
            Stage::Dom0Boot if self.mode == Mode::Dom0 => "probe boot (as dom0)",
            Stage::Dom0Boot => "dom0 boot",
            Stage::Xenstored => "xenstored",
            Stage::XlCreate => "xl create",
            Stage::Probe => "probe",
            Stage::Finished => "finish",
        }
    }
}

fn joined(q: &VecDeque<String>) -> String {
    q.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
}

/// libxl's shutdown reason codes.
pub fn end_from_reason(code: i32) -> GuestEnd {
    match code {
        0 => GuestEnd::Poweroff,
        1 => GuestEnd::Reboot,
        3 => GuestEnd::Crash,
        n => GuestEnd::Other(n),
    }
}

#[cfg(test)]
#[path = "monitor_tests.rs"]
mod tests;
