//! How a run ends: orderly (after the result line) or crashed (panic, fault).
//!
//! A crash prints its report, then ends the domain as crashed with no result
//! line, which the host reports as CRASH. Re-entry (a fault while reporting)
//! skips straight to the shutdown.

use crate::arch::traps::{vector_name, TrapFrame, FAILSAFE_VECTOR};
use crate::report::Text;
use crate::xen::{physdev, sched, shared};
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use xp_core::cmdline::ExitMode;
use xp_core::outcome::Outcome;
use xp_core::xen::sched::ShutdownReason;

/// An address as the crash record spells it (`0x...`).
struct Hex(u64);

impl core::fmt::Display for Hex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

static IN_FATAL: AtomicBool = AtomicBool::new(false);
/// 1 when the command line asked for isa-debug-exit (dom0 under QEMU).
static DEBUG_EXIT: AtomicU8 = AtomicU8::new(0);
/// 1 when running as dom0.
static IS_DOM0: AtomicU8 = AtomicU8::new(0);

/// Remember how to end the run.
pub fn configure(exit: ExitMode, dom0: bool) {
    DEBUG_EXIT.store((exit == ExitMode::IsaDebugExit) as u8, Ordering::Relaxed);
    IS_DOM0.store(dom0 as u8, Ordering::Relaxed);
}

/// Code written to isa-debug-exit for a crash (xtf-runner's CRASH).
const CRASH_CODE: u8 = 6;

/// End the domain: `Some(outcome)` after an orderly run, `None` for a crash.
pub fn end(outcome: Option<Outcome>) -> ! {
    let code = outcome.map_or(CRASH_CODE, |o| o.exit_code() as u8);
    if DEBUG_EXIT.load(Ordering::Relaxed) == 1 && IS_DOM0.load(Ordering::Relaxed) == 1 {
        match physdev::set_iopl(3) {
            Ok(()) => crate::arch::io::isa_debug_exit(code),
            Err(e) => crate::println!("isa-debug-exit unavailable: {e}"),
        }
    }
    let reason = if outcome.is_some() {
        ShutdownReason::POWEROFF
    } else {
        ShutdownReason::CRASH
    };
    crate::drv::console::flush();
    let rc = sched::shutdown(reason);
    crate::println!("SCHEDOP_shutdown({}) returned {rc}; spinning", reason.0);
    crate::drv::console::flush();
    loop {
        sched::yield_now();
    }
}

fn enter() {
    if IN_FATAL.swap(true, Ordering::SeqCst) {
        // A fault while reporting a fault: do not try to print again.
        sched::shutdown(ShutdownReason::CRASH);
    }
    if !crate::drv::console::break_lock() {
        let why = b"xenprobe: crashed while a sibling vCPU holds the console: no report\n";
        crate::xen::console_io::write(why);
        sched::shutdown(ShutdownReason::CRASH);
    }
}

/// Report a CPU exception and crash.
pub fn trap(f: &TrapFrame) -> ! {
    enter();
    let cr2 = if f.vector == 14 {
        shared::fault_cr2()
    } else {
        None
    };
    crate::println!(
        "\nFATAL TRAP: vector {} ({}) error_code {:#x} rip {:#018x}",
        f.vector,
        vector_name(f.vector),
        f.error_code,
        f.frame.instruction_pointer.as_u64()
    );
    if f.vector == FAILSAFE_VECTOR {
        crate::println!("ds {:#06x} (from Xen's failsafe frame)", f.error_code);
    }
    match cr2 {
        Some(a) => crate::println!("cr2 {a:#018x}"),
        None if f.vector == 14 => crate::println!("cr2 unavailable (shared_info not mapped)"),
        None => {}
    }
    dump_regs(f);
    let cr2 = cr2.map(Hex);
    crate::report::emit(&xp_core::records::Crash::<Text> {
        reason: &"trap",
        vector: Some(f.vector),
        name: Some(&vector_name(f.vector)),
        error_code: Some(f.error_code),
        rip: Some(&Hex(f.frame.instruction_pointer.as_u64())),
        cr2: cr2.as_ref().map(|c| c as Text),
        message: None,
        location: None,
    });
    end(None)
}

fn dump_regs(f: &TrapFrame) {
    let rows = [
        ("rax", f.rax, "rbx", f.rbx, "rcx", f.rcx),
        ("rdx", f.rdx, "rsi", f.rsi, "rdi", f.rdi),
        (
            "rbp",
            f.rbp,
            "rsp",
            f.frame.stack_pointer.as_u64(),
            "r8 ",
            f.r8,
        ),
        ("r9 ", f.r9, "r10", f.r10, "r11", f.r11),
        ("r12", f.r12, "r13", f.r13, "r14", f.r14),
        (
            "r15",
            f.r15,
            "cs ",
            u64::from(f.frame.code_segment.0),
            "rfl",
            f.frame.cpu_flags.bits(),
        ),
    ];
    for (a, va, b, vb, c, vc) in rows {
        crate::println!("  {a} {va:#018x}  {b} {vb:#018x}  {c} {vc:#018x}");
    }
    crate::println!("  ss  {:#018x}", f.frame.stack_segment.0);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    enter();
    let msg = info.message();
    let (file, line, col) = info
        .location()
        .map_or(("?", 0, 0), |l| (l.file(), l.line(), l.column()));
    crate::println!("\nPANIC: {msg}\n  at {file}:{line}:{col}");
    let location = format_args!("{file}:{line}:{col}");
    crate::report::emit(&xp_core::records::Crash::<Text> {
        reason: &"panic",
        vector: None,
        name: None,
        error_code: None,
        rip: None,
        cr2: None,
        message: Some(&msg),
        location: Some(&location),
    });
    end(None)
}
