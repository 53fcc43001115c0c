//! Probe `platform`: what Xen and the domain builder gave us, and whether the
//! basics hold (start_info magic, shared_info mapped and live, hypercall page
//! populated, heap usable, pvclock monotonic).

use super::Ctx;
use super::RunFn;
use crate::xen::{shared, version};
use alloc::vec;
use xp_core::cmdline::ProbeSpec;
use xp_core::xen::start_info::c_str;
use xp_core::xen::version::*;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "platform",
    about: "Xen version, start_info facts and basic PV invariants",
    options: &[],
    run,
};

pub fn run(ctx: &mut Ctx<'_>) {
    xen_facts(ctx);
    domain_facts(ctx);
    check_start_info(ctx);
    check_shared_info(ctx);
    check_hypercall_page(ctx);
    check_heap(ctx);
    check_pvclock(ctx);
    boot_metrics(ctx);
    tsc_facts(ctx);
    ctx.info("evtchn_abi", crate::drv::evtchn::abi_name());
}

/// Xen's TSC mode for this domain (CPUID leaf 0x4000_0003) and what one rdtsc costs: an
/// emulated TSC traps into Xen on every read, which every clock read pays.
fn tsc_facts(ctx: &mut Ctx<'_>) {
    let sig = crate::arch::xen_cpuid(0x4000_0000, 0);
    let name = [sig[1], sig[2], sig[3]].map(u32::to_le_bytes);
    if name.concat() != *b"XenVMMXenVMM" {
        return ctx.info("tsc_mode", "unknown (no Xen CPUID leaves at 0x40000000)");
    }
    let [vtsc, mode, khz, incarnation] = crate::arch::xen_cpuid(0x4000_0003, 0);
    let mode_name = match mode {
        0 => "default",
        1 => "always_emulate",
        2 => "native",
        3 => "native_paravirt",
        _ => "?",
    };
    ctx.info(
        "tsc_mode",
        format_args!(
            "{mode_name} ({mode}), emulated {}, guest TSC {khz} kHz, incarnation {incarnation}",
            vtsc & 1
        ),
    );
    const N: u64 = 1000;
    let t0 = crate::time::now_ns();
    for _ in 0..N {
        core::hint::black_box(crate::arch::rdtsc());
    }
    let per = (crate::time::now_ns() - t0) / N;
    ctx.metric(
        "rdtsc_cost",
        per,
        "ns",
        "mean of 1000 back-to-back rdtsc, pvclock before/after",
    );
}

fn xen_facts(ctx: &mut Ctx<'_>) {
    let (major, minor) = version::version();
    let mut extra = [0u8; 16];
    let mut changeset = [0u8; 64];
    let mut caps = [0u8; 1024];
    let rc = version::query(XENVER_EXTRAVERSION, &mut extra)
        .min(version::query(XENVER_CHANGESET, &mut changeset))
        .min(version::query(XENVER_CAPABILITIES, &mut caps));
    ctx.info(
        "xen_version",
        format_args!("{major}.{minor}{}", c_str(&extra)),
    );
    ctx.info("xen_changeset", c_str(&changeset));
    ctx.info("xen_capabilities", c_str(&caps));
    ctx.check("xenver_queries", rc >= 0, "rc >= 0", rc);
    ctx.check(
        "xen_version_plausible",
        major >= 3,
        ">= 3.0",
        format_args!("{major}.{minor}"),
    );
    match version::features(0) {
        Ok(bits) => ctx.info(
            "xen_features_0",
            format_args!(
                "{bits:#010x} ({})",
                xp_core::xen::version::XenFeatures::from_bits_retain(bits)
            ),
        ),
        Err(e) => ctx.error(e),
    }
}

fn domain_facts(ctx: &mut Ctx<'_>) {
    let si = ctx.env.si;
    let mut handle = [0u8; 16];
    if version::query(XENVER_GUEST_HANDLE, &mut handle) >= 0 {
        ctx.info("domain_handle", Uuid(&handle));
    }
    match (ctx.env.domid, &ctx.env.xs_home) {
        (Some(d), Ok(home)) => {
            ctx.info("domid", d);
            ctx.info("xenstore_home", home);
        }
        (Some(d), Err(_)) => ctx.info("domid", d),
        (None, Err(e)) => ctx.error(format_args!("domid unknown: xenstore client failed: {e}")),
        (None, Ok(_)) => ctx.error("domid unknown"),
    }
    ctx.info("mode", if si.is_dom0() { "dom0" } else { "domU" });
    ctx.info("start_info_magic", si.magic_str());
    ctx.info("nr_pages", si.nr_pages);
    let flags = xp_core::xen::start_info::SifFlags::from_bits_retain(si.flags);
    ctx.info(
        "start_info_flags",
        format_args!("{:#x} ({flags})", si.flags),
    );
    ctx.info(
        "store",
        format_args!("mfn {:#x} evtchn {}", si.store_mfn, si.store_evtchn),
    );
    if si.is_dom0() {
        let (off, size) = (si.console_mfn & 0xffff_ffff, si.console_mfn >> 32);
        ctx.info(
            "console",
            format_args!("dom0 console_info at offset {off:#x}, {size} bytes"),
        );
    } else {
        ctx.info(
            "console",
            format_args!("mfn {:#x} evtchn {}", si.console_mfn, si.console_evtchn),
        );
    }
    ctx.info(
        "pt_base",
        format_args!("{:#x} ({} frames)", si.pt_base, si.nr_pt_frames),
    );
    ctx.info("cmdline", si.cmdline());
    let m = ctx.env.mem;
    ctx.info(
        "heap",
        format_args!("{} KiB at {:#x}", m.heap_bytes / 1024, m.heap_start),
    );
    ctx.info(
        "first_free_pfn",
        format_args!("{} of {} pages", m.free_start_pfn, m.nr_pages),
    );
    ctx.info(
        "pages_mapped_at_boot",
        format_args!("{} (+{} page tables)", m.pages_mapped, m.tables_created),
    );
}

fn check_start_info(ctx: &mut Ctx<'_>) {
    let si = ctx.env.si;
    // The magic is already an info fact: the kernel refuses a bad one before any probe runs,
    // so a check of it here could never fail.
    if !si.is_dom0() {
        let rings = si.store_mfn != 0 && si.console_mfn != 0;
        ctx.check(
            "domu_rings_present",
            rings,
            "store and console mfn != 0",
            format_args!("store {:#x} console {:#x}", si.store_mfn, si.console_mfn),
        );
    }
    ctx.check(
        "trap_table_registered",
        ctx.env.trap_table_rc == 0,
        0,
        ctx.env.trap_table_rc,
    );
    let cb = &ctx.env.events.callbacks;
    ctx.check(
        "event_callbacks_registered",
        cb.is_ok(),
        "ok",
        super::shown::Rc(cb),
    );
}

fn check_shared_info(ctx: &mut Ctx<'_>) {
    let t = match shared::time_info() {
        Ok(t) => t,
        Err(e) => {
            ctx.check("shared_info_mapped", false, "mapped", e);
            return;
        }
    };
    let live = t.system_time > 0 && t.tsc_to_system_mul != 0;
    let seen = format_args!(
        "system_time {} mul {:#x} shift {}",
        t.system_time, t.tsc_to_system_mul, t.tsc_shift
    );
    ctx.check(
        "shared_info_time_live",
        live,
        "system_time > 0, mul != 0",
        seen,
    );
    pvclock_facts(ctx, &crate::time::snapshot(&t));
    let (sec, _) = shared::wallclock().unwrap_or((0, 0));
    // 2020-01-01T00:00:00Z: a wall clock before that means shared_info is not what it seems.
    ctx.check(
        "wallclock_plausible",
        sec >= 1_577_836_800,
        ">= 1577836800 (2020-01-01)",
        sec,
    );
}

/// What vCPU 0's pvclock record says about the TSC: its rate (Linux's pvclock_tsc_khz from
/// tsc_to_system_mul and tsc_shift) and Xen's XEN_PVCLOCK_* flags (tsc_stable,
/// guest_stopped).
fn pvclock_facts(ctx: &mut Ctx<'_>, t: &xp_core::pvclock::TimeSnapshot) {
    ctx.info(
        "pvclock",
        format_args!(
            "TSC {} kHz (from mul {:#x} shift {}), flags {:#x} ({})",
            xp_core::pvclock::tsc_khz(t.tsc_to_system_mul, t.tsc_shift),
            t.tsc_to_system_mul,
            t.tsc_shift,
            t.flags,
            t.pvclock_flags()
        ),
    );
}

fn check_hypercall_page(ctx: &mut Ctx<'_>) {
    let page = crate::arch::hypercall::page();
    // Every stub starts `push rcx; push r11; mov eax, imm32` (51 41 53 b8 imm32) with imm = n.
    let stub_ok = |n: usize| {
        let s = &page[n * 32..n * 32 + 8];
        s[..4] == [0x51, 0x41, 0x53, 0xb8]
            && u32::from_le_bytes([s[4], s[5], s[6], s[7]]) == n as u32
    };
    let probe = [0usize, 1, 17, 18, 24, 29, 32];
    let good = probe.iter().filter(|&&n| stub_ok(n)).count();
    let s0 = &page[..8];
    ctx.check(
        "hypercall_page_populated",
        good == probe.len(),
        format_args!("{} stubs `push rcx; push r11; mov eax,n`", probe.len()),
        format_args!("{good} good; stub 0 = {:02x?}", s0),
    );
}

fn check_heap(ctx: &mut Ctx<'_>) {
    let n = 256 * 1024;
    let mut v = vec![0u8; n];
    for (i, b) in v.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let ok = v.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8);
    drop(v);
    let (used, free) = crate::mm::heap_usage();
    ctx.check(
        "heap_alloc_256k",
        ok,
        "pattern intact",
        if ok { "intact" } else { "corrupted" },
    );
    ctx.info("heap_after", format_args!("used {used} B, free {free} B"));
}

fn check_pvclock(ctx: &mut Ctx<'_>) {
    let mut last = crate::time::now_ns();
    let mut backwards = 0u32;
    for _ in 0..10_000 {
        let t = crate::time::now_ns();
        backwards += (t < last) as u32;
        last = t;
    }
    ctx.check(
        "pvclock_monotonic_10k",
        backwards == 0,
        "0 backward steps",
        backwards,
    );
}

fn boot_metrics(ctx: &mut Ctx<'_>) {
    let e = ctx.env;
    let ns = e.ready_ns.saturating_sub(e.entry_ns);
    ctx.metric(
        "entry_to_ready",
        ns,
        "ns",
        "pvclock at xen_start entry vs. before the first probe, n=1",
    );
}

/// Formats a 16-byte domain handle as a UUID.
struct Uuid<'a>(&'a [u8; 16]);
impl core::fmt::Display for Uuid<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
