//! Pure generation of everything a run is configured by: the Xen command line, QEMU's
//! arguments, the xl domain config and the parameter file read by the dom0 init script.

use super::{LabConfig, Mode, Sched, Xenstored};
use anyhow::{ensure, Result};
use std::path::Path;

/// Name of the probe domain in DomU mode (`DOMNAME` for dom0 scripts).
pub const DOMAIN_NAME: &str = "xenprobe";
/// Where the probe kernel, the xl config and the parameters sit inside the dom0 initramfs.
pub const PROBE_PATH: &str = "/probe/xenprobe";
pub const XL_CFG_PATH: &str = "/etc/xenprobe/probe.cfg";
pub const ENV_PATH: &str = "/etc/xenprobe/lab.env";
pub const SCRIPT_PATH: &str = "/etc/xenprobe/script.sh";

/// dom0 memory: Linux dom0 with a small probe guest (xl needs more only for big Linux guests),
/// and the probe itself as dom0.
const DOM0_MEM_LINUX: u32 = 512;
const DOM0_MEM_PROBE: u32 = 32;
/// `cryptomgr.notests rodata=off` skip the crypto self-tests and the W+X page walk: about
/// 0.5-0.8 s of the dom0 boot under TCG (measured with initcall_debug and A/B runs).
const DOM0_LINUX_ARGS: &str =
    "console=hvc0 earlyprintk=xen loglevel=4 rdinit=/init cryptomgr.notests rodata=off";

impl Sched {
    pub fn xen_name(self) -> &'static str {
        match self {
            Sched::Credit => "credit",
            Sched::Credit2 => "credit2",
        }
    }
}

impl Xenstored {
    pub fn name(self) -> &'static str {
        match self {
            Xenstored::C => "c",
            Xenstored::Ocaml => "ocaml",
        }
    }

    /// The daemon dom0 runs, as Xen's tools name it (`--with-xenstored=`, xencommons).
    pub fn daemon(self) -> &'static str {
        match self {
            Xenstored::C => "xenstored",
            Xenstored::Ocaml => "oxenstored",
        }
    }
}

/// Xen's own command line. `noreboot` keeps Xen from rebooting by itself after a dom0 crash or
/// panic: the host reads the crash line and ends QEMU at once instead of 5 s later.
/// `bootscrub=0`: by default (`bootscrub=idle`) Xen scrubs its free memory whenever a pCPU
/// idles; under TCG that is many seconds of emulated work, still under way when the lab is
/// saved, so every restored run spent it again wherever it would have idled (0.3-0.5 s of a
/// warm run's wall time, and work beneath the probe's timers). Memory that domains free is
/// still scrubbed. `--xen-args bootscrub=idle` brings Xen's default back (the last one wins).
pub fn xen_cmdline(cfg: &LabConfig) -> String {
    let mem = dom0_mib(cfg);
    let line = format!(
        "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all dom0_mem={mem}M,max:{mem}M \
         {} noreboot bootscrub=0 sched={} {}",
        dom0_cpus(cfg),
        cfg.sched.xen_name(),
        cfg.xen_args
    );
    line.trim_end().to_string()
}

/// dom0's vCPUs: one Linux vCPU (pinned to pCPU 0 when it has a pCPU of its own); the probe
/// as dom0 gets the probe's vCPU count.
fn dom0_cpus(cfg: &LabConfig) -> String {
    match cfg.mode {
        Mode::Dom0 => format!("dom0_max_vcpus={}", cfg.cpus.vcpus),
        Mode::DomU if cfg.cpus.dom0_pinned() => "dom0_max_vcpus=1 dom0_vcpus_pin".into(),
        Mode::DomU => "dom0_max_vcpus=1".into(),
    }
}

/// The xl `cpus=` line of probe domains: every pCPU but dom0's, when dom0 has its own.
fn xl_cpus(cfg: &LabConfig) -> String {
    match cfg.cpus.pcpus {
        _ if !cfg.cpus.dom0_pinned() => String::new(),
        2 => "cpus = \"1\"\n".into(),
        n => format!("cpus = \"1-{}\"\n", n - 1),
    }
}

/// Refuses CPU layouts the lab cannot build, naming the value and what is possible.
pub fn check_cpus(cfg: &LabConfig) -> Result<()> {
    let c = cfg.cpus;
    ensure!(
        (1..=16).contains(&c.pcpus),
        "--pcpus {}: the lab machine has 1 to 16 pCPUs",
        c.pcpus
    );
    ensure!(
        (1..=c.pcpus).contains(&c.vcpus),
        "--vcpus {} with --pcpus {}: the probe domain may have 1 to {} vCPUs (raise --pcpus)",
        c.vcpus,
        c.pcpus,
        c.pcpus
    );
    Ok(())
}

/// A multiboot module for QEMU's `-initrd`: a path, then its command line. QEMU splits modules
/// at ',' and reads ",," as a literal comma; the path ends at the first space.
pub fn multiboot_module(path: &Path, args: &str) -> Result<String> {
    let p = path.to_string_lossy();
    ensure!(
        !p.contains([' ', ',']),
        "path {p:?} contains a space or a comma (QEMU multiboot cannot take it)"
    );
    let line = if args.is_empty() {
        p.into_owned()
    } else {
        format!("{p} {args}")
    };
    Ok(line.replace(',', ",,"))
}

/// QEMU's options besides memory, kernel, command line and modules.
///
/// `-icount shift=2,sleep=off`: guest time is virtual, 4 ns per executed instruction (a 250 MIPS CPU; at 1 ns, Xen's
/// boot-time busy-waits need 4x the instructions and a dom0 run takes twice as long), and
/// jumps straight to the next timer deadline when every CPU idles. So (1) a loaded host
/// cannot show up inside the lab as timer lateness or false stalls (with real time it did:
/// millisecond lateness, 100 ms "lost wake-ups"); (2) the TSC rate stays constant (`shift=auto`
/// changes it on the fly, after Xen calibrated it); (3) timer interrupts are never delivered
/// late while QEMU sleeps (`sleep=on` showed 55 ms late wake-ups); (4) idle time costs no
/// real time. Runs are reproducible; absolute figures are those of this virtual machine.
const QEMU_FIXED: &str = "-cpu max,-smap -accel tcg -icount shift=2,sleep=off -nographic \
                          -nodefaults -no-reboot -monitor none -serial stdio \
                          -device isa-debug-exit,iobase=0xf4,iosize=0x04";

/// Guest RAM of the QEMU machine in MiB: dom0 plus room for Xen and the probe domain.
pub fn machine_mib(cfg: &LabConfig) -> u32 {
    let dom0 = dom0_mib(cfg);
    match cfg.mode {
        Mode::DomU => {
            let peers: u32 = cfg.peers.iter().map(|p| p.memory_mib).sum();
            (dom0 + cfg.memory_mib + peers + 256).max(1024)
        }
        Mode::Dom0 => (dom0 + 96).max(128),
    }
}

fn dom0_mib(cfg: &LabConfig) -> u32 {
    match cfg.mode {
        Mode::DomU => cfg.dom0_mem_mib.unwrap_or(DOM0_MEM_LINUX),
        Mode::Dom0 => cfg.dom0_mem_mib.unwrap_or(DOM0_MEM_PROBE),
    }
}

/// QEMU's arguments (everything after the program name).
pub fn qemu_args(cfg: &LabConfig, xen: &Path, modules: &[String]) -> Vec<String> {
    let mut a = vec!["-m".to_string(), machine_mib(cfg).to_string()];
    a.extend(["-smp".into(), cfg.cpus.pcpus.to_string()]);
    a.extend(QEMU_FIXED.split_whitespace().map(String::from));
    a.extend(["-kernel".into(), xen.to_string_lossy().into_owned()]);
    a.extend(["-append".into(), xen_cmdline(cfg)]);
    a.extend(["-initrd".into(), modules.join(",")]);
    a
}

/// The Linux dom0 kernel module line.
pub fn dom0_linux_module(kernel: &Path, extra: &str) -> Result<String> {
    multiboot_module(kernel, format!("{DOM0_LINUX_ARGS} {extra}").trim_end())
}

/// Checks a string that goes between double quotes in an xl config.
fn xl_quoted(what: &str, s: &str) -> Result<String> {
    ensure!(
        !s.contains(['"', '\\', '\n', '\r']),
        "{what} must not contain '\"', '\\' or a newline: {s:?}"
    );
    Ok(format!("\"{s}\""))
}

/// The xl config of the probe domain. `tsc_mode = "native"`: Xen's default would emulate the
/// TSC here (QEMU's virtual TSC is not invariant), which makes every rdtsc, and so every clock
/// read, trap into Xen (~20 us of lab time instead of ~50 ns); the platform probe reports the
/// mode and the cost of one rdtsc on any host. The domain is preserved on every kind of shutdown so
/// that xenconsoled can still drain its console ring; the init script destroys nothing and
/// powers dom0 off instead. `max_event_channels`: libxl's default (1023) would stop the evtchn
/// probe below port 4096, where FIFO event channels start to differ from the 2-level ABI.
pub fn xl_config(cfg: &LabConfig) -> Result<String> {
    Ok(format!(
        "name = \"{DOMAIN_NAME}\"\ntype = \"pv\"\nkernel = \"{PROBE_PATH}\"\nmemory = {}\nmaxmem = {}\n\
         vcpus = {}\n{}tsc_mode = \"native\"\nmax_event_channels = {}\nextra = {}\non_poweroff = \"preserve\"\non_reboot = \"preserve\"\n\
         on_crash = \"preserve\"\non_watchdog = \"preserve\"\n",
        cfg.memory_mib,
        cfg.memory_mib,
        cfg.cpus.vcpus,
        xl_cpus(cfg),
        xp_host::xlcfg::MAX_EVENT_CHANNELS,
        xl_quoted("the guest command line", &cfg.cmdline)?
    ))
}

/// Where the xl config of peer `i` goes in the initramfs.
pub fn peer_cfg_path(i: usize) -> String {
    format!("/etc/xenprobe/peer-{i}.cfg")
}

/// The xl config of a peer domain (`@MAIN_DOMID@` is replaced by init at creation time), with
/// the same event-channel limit as the main domain (a peer may run the evtchn probe too).
pub fn peer_xl_config(p: &super::Peer, cfg: &LabConfig) -> Result<String> {
    ensure!(
        !p.name.is_empty()
            && p.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "peer name {:?} must be letters, digits or '-'",
        p.name
    );
    Ok(format!(
        "name = \"{}\"\ntype = \"pv\"\nkernel = \"{}\"\nmemory = {}\nmaxmem = {}\n\
         vcpus = 1\n{}tsc_mode = \"native\"\nmax_event_channels = {}\nextra = {}\non_poweroff = \"preserve\"\non_reboot = \"preserve\"\n\
         on_crash = \"preserve\"\non_watchdog = \"preserve\"\n",
        p.name,
        peer_kernel_path(p),
        p.memory_mib,
        p.memory_mib,
        xl_cpus(cfg),
        xp_host::xlcfg::MAX_EVENT_CHANNELS,
        xl_quoted("a peer's command line", &p.cmdline)?
    ))
}

/// Where a peer's kernel is in dom0: its own image if it brings one, else the probe.
pub fn peer_kernel_path(p: &super::Peer) -> String {
    match p.kernel {
        Some(_) => format!("/probe/{}.kernel", p.name),
        None => PROBE_PATH.to_string(),
    }
}

/// Shell assignments sourced by the init script (values are single-quoted).
pub fn lab_env(cfg: &LabConfig) -> String {
    let vars = [
        ("XP_XENSTORED", cfg.xenstored.name().to_string()),
        (
            "XP_TIMEOUT",
            format!("{}", cfg.timeout.as_secs_f64().ceil() as u64),
        ),
        ("XP_DOMNAME", DOMAIN_NAME.to_string()),
        ("XP_XLCFG", XL_CFG_PATH.to_string()),
        (
            "XP_SCRIPT",
            if cfg.dom0_script.is_some() {
                SCRIPT_PATH.to_string()
            } else {
                String::new()
            },
        ),
        (
            "XP_PEERS",
            cfg.peers
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (
            "XP_VERBOSE",
            if cfg.verbose { "1".into() } else { "0".into() },
        ),
    ];
    vars.iter()
        .map(|(k, v)| format!("{k}='{}'\n", v.replace('\'', "'\\''")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::LabConfig;

    fn cfg() -> LabConfig {
        LabConfig {
            cmdline: "probes=a,b duration=1".into(),
            ..LabConfig::new(Mode::DomU, "/k".into())
        }
    }

    #[test]
    fn xl_config_has_guest_settings() {
        let c = xl_config(&cfg()).unwrap();
        assert!(c.contains("memory = 4\n"));
        assert!(c.contains("extra = \"probes=a,b duration=1\"\n"));
        assert!(c.contains("on_crash = \"preserve\""));
        assert!(c.contains("kernel = \"/probe/xenprobe\""));
        let bad = LabConfig {
            cmdline: "a\"b".into(),
            ..cfg()
        };
        assert!(xl_config(&bad).is_err());
        let big = LabConfig {
            memory_mib: 128,
            ..cfg()
        };
        assert!(xl_config(&big)
            .unwrap()
            .contains("memory = 128\nmaxmem = 128\n"));
    }

    #[test]
    fn peer_configs_name_their_kernel() {
        let mut p = crate::lab::Peer {
            name: "linux".into(),
            cmdline: "console=hvc0".into(),
            memory_mib: 128,
            kernel: None,
        };
        assert!(peer_xl_config(&p, &cfg())
            .unwrap()
            .contains("kernel = \"/probe/xenprobe\"\n"));
        p.kernel = Some("/cache/vmlinux".into());
        let c = peer_xl_config(&p, &cfg()).unwrap();
        assert!(
            c.contains("kernel = \"/probe/linux.kernel\"\n")
                && c.contains("memory = 128\n")
                && c.contains("max_event_channels = "),
            "{c}"
        );
        p.name = "bad name".into();
        assert!(peer_xl_config(&p, &cfg()).is_err());
    }

    #[test]
    fn xen_cmdline_selects_scheduler_and_memory() {
        let c = cfg();
        assert!(xen_cmdline(&c).contains("sched=credit2"));
        assert!(xen_cmdline(&c).contains("dom0_mem=512M,max:512M"));
        let d = LabConfig {
            sched: Sched::Credit,
            mode: Mode::Dom0,
            ..cfg()
        };
        assert!(xen_cmdline(&d).ends_with("sched=credit"));
        assert!(xen_cmdline(&d).contains("dom0_mem=32M,max:32M"));
    }

    #[test]
    fn cpu_layouts() {
        let one = cfg();
        assert!(xen_cmdline(&one).contains("dom0_max_vcpus=1 noreboot bootscrub=0"));
        assert!(!xl_config(&one).unwrap().contains("cpus = \""));
        let mut c = cfg();
        c.cpus = crate::lab::Cpus {
            pcpus: 3,
            vcpus: 2,
            shared_dom0_cpu: false,
        };
        assert!(xen_cmdline(&c).contains("dom0_max_vcpus=1 dom0_vcpus_pin noreboot bootscrub=0"));
        let xl = xl_config(&c).unwrap();
        assert!(xl.contains("vcpus = 2\ncpus = \"1-2\"\n"), "{xl}");
        let a = qemu_args(&c, Path::new("/x"), &[]);
        assert!(a.windows(2).any(|w| w == ["-smp", "3"]));
        c.cpus.shared_dom0_cpu = true;
        assert!(xen_cmdline(&c).contains("dom0_max_vcpus=1 noreboot bootscrub=0"));
        assert!(!xl_config(&c).unwrap().contains("cpus = \""));
        c.cpus = crate::lab::Cpus {
            pcpus: 2,
            vcpus: 3,
            shared_dom0_cpu: false,
        };
        let e = check_cpus(&c).unwrap_err().to_string();
        assert!(
            e.contains("--vcpus 3 with --pcpus 2") && e.contains("1 to 2 vCPUs"),
            "{e}"
        );
        c.cpus.pcpus = 0;
        assert!(check_cpus(&c)
            .unwrap_err()
            .to_string()
            .contains("--pcpus 0"));
    }

    #[test]
    fn multiboot_module_escapes_commas() {
        let m = multiboot_module(Path::new("/a/k"), "probes=x,y").unwrap();
        assert_eq!(m, "/a/k probes=x,,y");
        assert!(multiboot_module(Path::new("/a b/k"), "").is_err());
        let args = qemu_args(&cfg(), Path::new("/x/xen"), &[m, "/i.cpio".into()]);
        let initrd = args.iter().position(|a| a == "-initrd").unwrap();
        assert_eq!(args[initrd + 1], "/a/k probes=x,,y,/i.cpio");
    }

    #[test]
    fn lab_env_quotes_values() {
        let e = lab_env(&LabConfig {
            xenstored: Xenstored::Ocaml,
            ..cfg()
        });
        assert!(e.contains("XP_XENSTORED='ocaml'\n"));
        assert!(e.contains("XP_TIMEOUT='30'\n"));
        assert!(e.contains("XP_SCRIPT=''\n"));
    }
}
