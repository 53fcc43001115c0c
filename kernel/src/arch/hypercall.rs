//! Hypercalls through the hypercall page Xen filled in.
//!
//! Hypercall `n` is the 32-byte stub at `hypercall_page + 32 * n`:
//! `push rcx; push r11; mov eax, n; syscall; pop r11; pop rcx; ret`.
//! Arguments go in rdi, rsi, rdx, r10, r8 and the result comes back in rax.
//! The stub uses the stack (so no `nostack`), and debug builds of Xen
//! deliberately scramble the argument registers on return, so every one of
//! them is declared clobbered. (The xen-sys crate's wrappers get both wrong.)

use core::arch::asm;

extern "C" {
    /// Defined in boot/head.S; Xen writes the stubs at load time.
    static hypercall_page: [u8; 4096];
}

/// The page's address, for checks that it was populated.
pub fn page() -> &'static [u8; 4096] {
    // SAFETY: the page is a static of the image, written by Xen before entry and never after.
    unsafe { &*core::ptr::addr_of!(hypercall_page) }
}

/// Issue hypercall `op` with up to five arguments; returns Xen's rax (negative errno on error).
///
/// # Safety
/// The arguments must be valid for `op`: pointers must reference memory of the
/// right type and size that stays alive (and is not otherwise borrowed) for the call.
#[inline(always)]
pub unsafe fn call5(op: usize, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64 {
    debug_assert!(op < 128);
    let entry = page().as_ptr() as usize + op * 32;
    let ret: i64;
    // SAFETY: `entry` is a hypercall stub in the hypercall page; the caller vouches for the
    // arguments. All argument registers plus rax/rcx/r11 are declared clobbered and the
    // stub's pushes land below rsp in our own stack (no red zone on this target).
    unsafe {
        asm!(
            "call {entry}",
            entry = in(reg) entry,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            inlateout("r10") a4 => _,
            inlateout("r8") a5 => _,
            lateout("rax") ret,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret
}

/// [`call5`] with fewer arguments.
///
/// # Safety
/// As for [`call5`].
#[inline(always)]
pub unsafe fn call3(op: usize, a1: u64, a2: u64, a3: u64) -> i64 {
    // SAFETY: forwarded; unused registers are passed as zero.
    unsafe { call5(op, a1, a2, a3, 0, 0) }
}

/// [`call5`] with two arguments.
///
/// # Safety
/// As for [`call5`].
#[inline(always)]
pub unsafe fn call2(op: usize, a1: u64, a2: u64) -> i64 {
    // SAFETY: forwarded.
    unsafe { call5(op, a1, a2, 0, 0, 0) }
}
