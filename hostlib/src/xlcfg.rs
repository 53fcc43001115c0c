//! The xl config of a probe domain for a real Xen host (`xenprobe create`, `xenprobe xl-config`,
//! `cargo xtask xl`): the lab's keys (xtask/src/lab/config.rs) with real-host lifecycle actions.

use anyhow::{ensure, Result};

/// Domain name used when none is given.
pub const DEFAULT_NAME: &str = "xenprobe";
/// Probe command line used when none is given.
pub const DEFAULT_CMDLINE: &str = "probes=platform,evtchn,timer";

/// xl `max_event_channels` of a probe domain: libxl's default (1023) stops a domain below
/// port 4096, and the evtchn probe checks ports above 4095 (FIFO event channels).
pub const MAX_EVENT_CHANNELS: u32 = 8192;

/// What goes into the config.
#[derive(Debug, Clone)]
pub struct XlCfg {
    pub name: String,
    /// kernel= as the Xen host's dom0 sees it.
    pub kernel: String,
    pub memory_mib: u32,
    /// The probe command line (xl extra=).
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

/// The config text. The domain goes away when it powers off, and is kept for inspection
/// (`xl list`, `xl destroy NAME`) when it crashes.
pub fn config(c: &XlCfg, writer: &str) -> Result<String> {
    render(c, writer, "destroy")
}

/// The config text for a tool that reads the console itself (`xenprobe create`): the domain
/// is also kept when it powers off, until the tool has read the last console line and
/// destroys it. xl's console client ends as soon as the domain's console node is gone from
/// xenstore, without reading what xenconsoled still had for the pty (Xen's
/// tools/console/client/main.c, console_loop: the xenstore watch is served first and
/// `get_pty_fd() == -1` returns at once), so with "destroy" the last lines can be lost.
pub fn config_kept_on_poweroff(c: &XlCfg, writer: &str) -> Result<String> {
    render(c, writer, "preserve")
}

fn render(c: &XlCfg, writer: &str, on_poweroff: &str) -> Result<String> {
    ensure!(
        c.memory_mib >= 4,
        "memory must be at least 4 MiB (libxc's floor for a 64-bit PV guest), not {}",
        c.memory_mib
    );
    ensure!(!c.name.is_empty(), "the domain name must not be empty");
    Ok(format!(
        "# xenprobe probe domain, written by {writer}; run it with `xl create -c FILE`\n\
         name = {}\ntype = \"pv\"\nkernel = {}\nmemory = {}\nmaxmem = {}\nvcpus = 1\n\
         max_event_channels = {MAX_EVENT_CHANNELS}\nextra = {}\n\
         on_poweroff = \"{on_poweroff}\"\non_reboot = \"destroy\"\non_crash = \"preserve\"\non_watchdog = \"destroy\"\n",
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
        let k = keys(&config(&cfg(), "a test").unwrap());
        let get = |n: &str| k.iter().find(|(x, _)| x == n).map(|(_, v)| v.as_str());
        assert_eq!(get("kernel"), Some("/opt/xenprobe"));
        assert_eq!(get("extra"), Some("probes=stall duration=0"));
        assert_eq!(get("memory"), Some("4"));
        assert_eq!(get("on_poweroff"), Some("destroy"));
        assert_eq!(get("on_crash"), Some("preserve"));
        let kept = keys(&config_kept_on_poweroff(&cfg(), "a test").unwrap());
        let on_poweroff = kept.iter().find(|(x, _)| x == "on_poweroff");
        assert_eq!(on_poweroff.map(|(_, v)| v.as_str()), Some("preserve"));
        // Every key the lab's own config has (xtask/src/lab/config.rs, xl_config).
        let lab = [
            "name",
            "type",
            "kernel",
            "memory",
            "maxmem",
            "vcpus",
            "max_event_channels",
            "extra",
            "on_poweroff",
            "on_reboot",
            "on_crash",
            "on_watchdog",
        ];
        let mine: Vec<&str> = k.iter().map(|(x, _)| x.as_str()).collect();
        assert_eq!(mine, lab);
    }

    #[test]
    fn refuses_what_xl_cannot_take() {
        let bad = |c: XlCfg| config(&c, "t").unwrap_err().to_string();
        let e = bad(XlCfg {
            cmdline: "a\"b".into(),
            ..cfg()
        });
        assert!(e.contains("guest command line must not contain"), "{e}");
        let e = bad(XlCfg {
            memory_mib: 2,
            ..cfg()
        });
        assert!(e.contains("at least 4 MiB"), "{e}");
        let e = bad(XlCfg {
            name: String::new(),
            ..cfg()
        });
        assert!(e.contains("domain name"), "{e}");
    }
}
