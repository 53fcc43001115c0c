//! xenprobe: a Xen 64-bit PV unikernel that probes the hypervisor and xenstored.
//!
//! `xen_start` is the init script, read top to bottom:
//! traps -> start_info -> shared_info -> console -> memory -> xenstore -> grant table -> log ->
//! command line -> probes -> result -> shutdown.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

mod arch;
mod drv;
mod fatal;
mod mm;
mod probe;
mod report;
mod shmem;
mod smp;
mod time;
mod xen;

use xp_core::cmdline::{Cmdline, Explain};
use xp_core::outcome::Outcome;
use xp_core::xen::start_info::StartInfo;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Entered from `_start` (boot/head.S) on our own stack with rsi = start_info.
#[no_mangle]
extern "C" fn xen_start(si: *const StartInfo) -> ! {
    let entry_tsc = arch::rdtsc();
    let trap_table_rc = arch::traps::init();
    // Per-vCPU data (arch::percpu) works from here on; a refusal leaves only vCPU 0 usable.
    arch::percpu::init_boot_vcpu();
    // SAFETY: Xen passes the virtual address of a mapped start_info page, which it writes
    // before entry only (no suspend/resume here) and which the heap never covers.
    let si: &'static StartInfo = unsafe { &*si };
    if let Err(e) = si.validate() {
        // No console is known yet; console_io reaches dom0's and debug Xen's console.
        xen::console_io::write(b"xenprobe: start_info is not a 64-bit PV start_info; stopping\n");
        report::error(format_args!(
            "bad start_info: {e} (magic \"{}\")",
            si.magic_str().escape_debug()
        ));
        fatal::end(None);
    }
    if let Err(e) = xen::shared::map(si.shared_info) {
        report::error(format_args!("cannot map shared_info: {e}"));
        fatal::end(None);
    }
    drv::logger::init(log_level(si));
    console_init(si);
    let events = events_init();
    let mem = match mm::init(si) {
        Ok(m) => m,
        Err(e) => {
            report::error(format_args!("memory setup failed: {e}"));
            fatal::end(None)
        }
    };
    let (domid, xs_home) = xenstore_init(si);
    let env = probe::Env {
        si,
        mem,
        trap_table_rc,
        events,
        domid,
        xs_home,
        gnttab: gnttab_init(),
        entry_ns: entry_ns(entry_tsc),
        ready_ns: time::now_ns(),
    };
    run(&env)
}

/// `loglevel=` from the command line (parsed again, fully, by `run`), `info` without it.
fn log_level(si: &'static StartInfo) -> &'static str {
    let cmd = Cmdline::parse(si.cmdline(), probe::REGISTRY, probe::DEFAULT);
    cmd.ok().and_then(|c| c.loglevel).unwrap_or("info")
}

/// The console ring for a domU, console_io for dom0.
fn console_init(si: &StartInfo) {
    if si.is_dom0() {
        drv::console::use_hypervisor();
        return;
    }
    if let Some(page) = mm::builder_page(si, si.console_mfn) {
        drv::console::use_ring(page, si.console_evtchn);
    } else {
        report::error(format_args!(
            "console page (mfn {:#x}) is not in the bootstrap mapping",
            si.console_mfn
        ));
    }
}

/// Event channels, the timer (periodic tick stopped) and the runstate area.
fn events_init() -> probe::EventsInfo {
    let callbacks = drv::evtchn::init();
    let timer = callbacks.and_then(|_| drv::timer::init());
    let runstate = drv::runstate::init(0);
    for (what, err) in [
        ("event callbacks", callbacks.err()),
        ("timer", timer.err()),
        ("runstate area", runstate.err()),
    ] {
        if let Some(e) = err {
            report::error(format_args!("{what}: {e}"));
        }
    }
    probe::EventsInfo {
        callbacks,
        timer,
        runstate,
    }
}

/// Our xenstore home path, or why there is no xenstore client.
type XsHome = Result<alloc::string::String, alloc::string::String>;

/// The xenstore client; a domU learns its domid and home path through it.
fn xenstore_init(si: &StartInfo) -> (Option<u16>, XsHome) {
    use alloc::string::ToString;
    if let Err(e) = drv::xenstore::init(si) {
        if !si.is_dom0() {
            report::error(format_args!("xenstore: {e}"));
        }
        return (si.is_dom0().then_some(0), Err(e.to_string()));
    }
    match drv::xenstore::learn_home() {
        Ok((domid, home)) => (Some(domid), Ok(home)),
        Err(e) => {
            report::error(format_args!("xenstore: learning domid and home path: {e}"));
            (None, Err(e.to_string()))
        }
    }
}

fn gnttab_init() -> Result<(u32, u32), drv::gnttab::GntError> {
    let r = drv::gnttab::init();
    if let Err(e) = &r {
        report::error(format_args!("grant table: {e}"));
    }
    r
}

fn entry_ns(entry_tsc: u64) -> u64 {
    time::at_tsc(&xen::shared::time_info().unwrap_or_default(), entry_tsc)
}

/// Parse the command line, run the probes, print the verdict and end the domain.
fn run(env: &probe::Env) -> ! {
    let text = env.si.cmdline();
    let cmd = Cmdline::parse(text, probe::REGISTRY, probe::DEFAULT);
    let exit = cmd
        .as_ref()
        .map_or(xp_core::cmdline::exit_mode_hint(text), |c| c.exit);
    fatal::configure(exit, env.si.is_dom0());
    crate::println!(
        "xenprobe {VERSION} ({}) cmdline: \"{}\"",
        if env.si.is_dom0() { "dom0" } else { "domU" },
        text.escape_debug()
    );
    let (major, minor) = xen::version::version();
    let mut extra = [0u8; 16];
    xen::version::query(xp_core::xen::version::XENVER_EXTRAVERSION, &mut extra);
    let xen = format_args!("{major}.{minor}{}", xp_core::xen::start_info::c_str(&extra));
    report::emit(&xp_core::records::Start::<report::Text> {
        version: &VERSION,
        cmdline: &text,
        mode: &if env.si.is_dom0() { "dom0" } else { "domU" },
        xen_version: Some(&xen),
    });
    let outcome = match cmd {
        Ok(cmd) if !evtchn_abi(cmd.evtchn_abi) => Outcome::Error,
        Ok(cmd) if !vcpus(env.si, cmd.vcpus) => Outcome::Error,
        Ok(cmd) => {
            let of = cmd.probes().count();
            cmd.probes()
                .enumerate()
                .fold(Outcome::Success, |acc, (i, p)| {
                    acc.worst(probe::run(p, (i + 1, of), &cmd, env))
                })
        }
        Err(e) => {
            report::error(format_args!(
                "command line: {}",
                Explain(&e, probe::REGISTRY)
            ));
            Outcome::Error
        }
    };
    report::emit(&xp_core::records::RunResult { result: outcome });
    report::result_line(outcome);
    fatal::end(Some(outcome))
}

/// Apply `evtchn.abi=` (FIFO by default where Xen offers it); false (after an ERROR
/// record) when FIFO was asked for and Xen refused it.
fn evtchn_abi(requested: Option<xp_core::cmdline::EvtchnAbi>) -> bool {
    match drv::evtchn::select_abi(requested) {
        Ok(abi) => {
            let (link_bits, vcpus, pages) = drv::evtchn::fifo_facts();
            match abi {
                xp_core::cmdline::EvtchnAbi::Fifo => crate::println!(
                    "event channels: FIFO (LINK {link_bits} bits, {vcpus} control blocks, \
                     {pages} event-array pages)"
                ),
                _ => crate::println!("event channels: 2-level"),
            }
            true
        }
        Err(e) => {
            report::error(format_args!("command line: {e}"));
            false
        }
    }
}

/// Start the vCPUs to use (`vcpus=`, default all the domain has); false (after an ERROR
/// record) when `vcpus=` asks for more than the domain has.
fn vcpus(si: &StartInfo, requested: Option<u64>) -> bool {
    match smp::start_all(si, requested) {
        Ok(n) => {
            let available = smp::available();
            crate::println!("vCPUs: {n} running of {available} the domain has");
            report::emit(&xp_core::records::Vcpus {
                running: n.into(),
                available: available.into(),
            });
            true
        }
        Err(e) => {
            report::error(format_args!("command line: {e}"));
            false
        }
    }
}
