//! Classification of the lines of the serial stream (pure, unit-tested).
//!
//! The serial port carries Xen's console. Xen prefixes its own lines with `(XEN) `; dom0's
//! console output (hvc0 / CONSOLEIO_write) is copied verbatim (a `(d0) ` prefix is stripped if
//! a Xen build adds one). In DomU mode the dom0 init script tags what it relays:
//!
//! | prefix            | meaning                                                   |
//! |-------------------|-----------------------------------------------------------|
//! | `XPC\|`           | one console line of the probe domain                       |
//! | `XPS\|`           | one output line of the dom0 script                         |
//! | `XPP\|name\|`      | one console line of peer domain `name`                     |
//! | `XPX\|`           | one output line of `xl create -F`                          |
//! | `XPD\|`           | diagnostics (xenstored log, `xl dmesg`, ...) on failure   |
//! | `XPLAB stage=S`   | init reached stage S (dom0-up, xenstored-ready, ...)      |
//! | `XPLAB end ...`   | `reason=N` (xl's reason code) or `timeout` or `unknown`    |
//! | `XPLAB fail ...`  | `stage=S msg...`: a lab step in dom0 failed                |
//! | `XPLAB done`      | everything was relayed; dom0 powers off next               |
//!
//! Other dom0 lines (Linux kernel messages, init's own errors) are kept for diagnostics.
//! In Dom0 mode every line that is not Xen's is a probe line, once Xen started dom0 (before
//! that, untagged lines come from the firmware: SeaBIOS).

use super::Mode;

#[derive(Debug, PartialEq, Eq, Clone)]
pub enum Line<'a> {
    Xen(XenEvent, &'a str),
    Probe(&'a str),
    Script(&'a str),
    Peer(&'a str, &'a str),
    Xl(&'a str),
    Diag(&'a str),
    Marker(Marker<'a>),
    Dom0(&'a str),
}

/// Xen lines that change the course of a run.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum XenEvent {
    None,
    /// Xen finished booting and starts dom0.
    Dom0Start,
    Dom0Halted,
    Dom0Reboot,
    Dom0Crashed,
    Panic,
}

#[derive(Debug, PartialEq, Eq, Clone)]
pub enum Marker<'a> {
    Stage(&'a str),
    EndReason(i32),
    EndTimeout,
    EndDestroyed,
    EndUnknown,
    Fail { stage: &'a str, msg: &'a str },
    Done,
    Other(&'a str),
}

/// `dom0_started`: Xen has handed over to dom0 (its "Freed ... init memory" line was seen).
pub fn classify(mode: Mode, dom0_started: bool, raw: &str) -> Line<'_> {
    let line = raw.trim_end_matches(['\r', '\n']);
    if let Some(rest) = line.strip_prefix("(XEN)") {
        return Line::Xen(xen_event(rest), rest.strip_prefix(' ').unwrap_or(rest));
    }
    let line = line.strip_prefix("(d0) ").unwrap_or(line);
    if mode == Mode::Dom0 {
        return if dom0_started {
            Line::Probe(line)
        } else {
            Line::Dom0(line)
        };
    }
    if let (Some(tag), Some(rest)) = (line.get(..4), line.get(4..)) {
        match tag {
            "XPC|" => return Line::Probe(rest),
            "XPS|" => return Line::Script(rest),
            "XPP|" => {
                if let Some((name, l)) = rest.split_once('|') {
                    return Line::Peer(name, l);
                }
            }
            "XPX|" => return Line::Xl(rest),
            "XPD|" => return Line::Diag(rest),
            _ => {}
        }
    }
    match line.strip_prefix("XPLAB ") {
        Some(rest) => Line::Marker(marker(rest)),
        None => Line::Dom0(line),
    }
}

#[cfg(test)]
#[test]
fn peer_lines_carry_their_name() {
    assert_eq!(
        classify(Mode::DomU, true, "XPP|xpeer1|hello|x"),
        Line::Peer("xpeer1", "hello|x")
    );
    assert_eq!(
        classify(Mode::DomU, true, "XPP|nobar"),
        Line::Dom0("XPP|nobar")
    );
}

fn xen_event(rest: &str) -> XenEvent {
    if rest.contains("Hardware Dom0 halted") {
        XenEvent::Dom0Halted
    } else if rest.contains("Hardware Dom0 shutdown") {
        XenEvent::Dom0Reboot
    } else if rest.contains("Hardware Dom0 crashed") {
        XenEvent::Dom0Crashed
    } else if rest.contains("Panic on CPU") {
        XenEvent::Panic
    } else if rest.contains("Freed") && rest.contains("init memory") {
        XenEvent::Dom0Start
    } else {
        XenEvent::None
    }
}

fn marker(rest: &str) -> Marker<'_> {
    let word = |key: &str| rest.split_whitespace().find_map(|w| w.strip_prefix(key));
    if let Some(s) = rest.strip_prefix("stage=") {
        Marker::Stage(s.split_whitespace().next().unwrap_or(""))
    } else if rest == "done" {
        Marker::Done
    } else if rest.starts_with("end") {
        match word("reason=").map(str::parse) {
            Some(Ok(n)) => Marker::EndReason(n),
            _ if rest.contains("timeout") => Marker::EndTimeout,
            _ if rest.contains("destroyed") => Marker::EndDestroyed,
            _ => Marker::EndUnknown,
        }
    } else if let Some(f) = rest.strip_prefix("fail stage=") {
        let (stage, msg) = f.split_once(' ').unwrap_or((f, ""));
        Marker::Fail { stage, msg }
    } else {
        Marker::Other(rest)
    }
}

/// What `xl create -F` says when the domain ends.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum XlEvent {
    /// "Domain N has shut down, reason code R 0x.."
    Shutdown { domid: u32, reason: i32 },
    /// "Domain N has been destroyed."
    Destroyed { domid: u32 },
}

pub fn xl_event(line: &str) -> Option<XlEvent> {
    let rest = &line[line.find("Domain ")? + 7..];
    let (domid, rest) = rest.split_once(' ')?;
    let domid = domid.parse().ok()?;
    if let Some(r) = rest.strip_prefix("has shut down, reason code ") {
        let reason = r.split_whitespace().next()?.parse().ok()?;
        Some(XlEvent::Shutdown { domid, reason })
    } else if rest.starts_with("has been destroyed") {
        Some(XlEvent::Destroyed { domid })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_xen_lines() {
        let c = |s| classify(Mode::DomU, true, s);
        assert_eq!(c("XPC|hello @xp {}\r"), Line::Probe("hello @xp {}"));
        assert_eq!(c("XPC|"), Line::Probe(""));
        assert_eq!(c("XPS|paused"), Line::Script("paused"));
        assert_eq!(c("XPX|Parsing config"), Line::Xl("Parsing config"));
        assert_eq!(c("XPD|tail"), Line::Diag("tail"));
        assert_eq!(
            c("(XEN) Freed 2048kB init memory"),
            Line::Xen(XenEvent::Dom0Start, "Freed 2048kB init memory")
        );
        assert_eq!(
            c("(XEN) Panic on CPU 0:"),
            Line::Xen(XenEvent::Panic, "Panic on CPU 0:")
        );
        assert_eq!(
            c("[    1.0] random kernel line"),
            Line::Dom0("[    1.0] random kernel line")
        );
    }

    #[test]
    fn markers() {
        let m = |s| classify(Mode::DomU, true, s);
        assert_eq!(
            m("XPLAB stage=xenstored-ready t=3.21"),
            Line::Marker(Marker::Stage("xenstored-ready"))
        );
        assert_eq!(m("XPLAB end reason=3"), Line::Marker(Marker::EndReason(3)));
        assert_eq!(m("XPLAB end timeout"), Line::Marker(Marker::EndTimeout));
        assert_eq!(m("XPLAB end destroyed"), Line::Marker(Marker::EndDestroyed));
        assert_eq!(m("XPLAB end"), Line::Marker(Marker::EndUnknown));
        assert_eq!(m("XPLAB done"), Line::Marker(Marker::Done));
        let f = Marker::Fail {
            stage: "xenstored",
            msg: "no answer in 20 s",
        };
        assert_eq!(
            m("XPLAB fail stage=xenstored no answer in 20 s"),
            Line::Marker(f)
        );
    }

    #[test]
    fn dom0_mode_lines_are_probe_lines() {
        assert_eq!(
            classify(Mode::Dom0, false, "Booting from ROM.."),
            Line::Dom0("Booting from ROM..")
        );
        let c = |s| classify(Mode::Dom0, true, s);
        assert_eq!(
            c("Test result: SUCCESS"),
            Line::Probe("Test result: SUCCESS")
        );
        assert_eq!(c("(d0) @xp {\"a\":1}"), Line::Probe("@xp {\"a\":1}"));
        assert_eq!(c("XPC|x"), Line::Probe("XPC|x"));
        let halted = "(XEN) Hardware Dom0 halted: halting machine";
        assert_eq!(
            c(halted),
            Line::Xen(
                XenEvent::Dom0Halted,
                "Hardware Dom0 halted: halting machine"
            )
        );
        assert!(matches!(
            c("(XEN) Hardware Dom0 crashed: 'noreboot' set"),
            Line::Xen(XenEvent::Dom0Crashed, _)
        ));
        assert!(matches!(
            c("(XEN) Hardware Dom0 shutdown: rebooting machine"),
            Line::Xen(XenEvent::Dom0Reboot, _)
        ));
    }

    #[test]
    fn xl_messages() {
        let s = xl_event("libxl: Domain 1 has shut down, reason code 0 0x0");
        assert_eq!(
            s,
            Some(XlEvent::Shutdown {
                domid: 1,
                reason: 0
            })
        );
        let s = xl_event("Domain 12 has shut down, reason code 3 0x3");
        assert_eq!(
            s,
            Some(XlEvent::Shutdown {
                domid: 12,
                reason: 3
            })
        );
        assert_eq!(
            xl_event("Domain 2 has been destroyed."),
            Some(XlEvent::Destroyed { domid: 2 })
        );
        assert_eq!(
            xl_event("Parsing config from /etc/xenprobe/probe.cfg"),
            None
        );
        assert_eq!(xl_event("Domain x has shut down, reason code 0"), None);
    }
}
