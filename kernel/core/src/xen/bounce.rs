//! The frames Xen bounces onto a 64-bit PV guest's stack (xen/arch/x86/x86_64/entry.S,
//! `create_bounce_frame`), lowest address first:
//!
//! `{ RCX, R11, [DS, ES, FS, GS,] [ERRCODE,] RIP, CS, RFLAGS, RSP, SS }`
//!
//! DS..GS only for the failsafe callback (`TBF_FAILSAFE`), the error code only for exceptions
//! that have one. The entry stubs in the kernel's `arch/*.S` drop what precedes RIP by these
//! offsets, so the Rust trap frame always ends with RIP, CS, RFLAGS, RSP, SS.

/// The failsafe callback's frame: Xen could not load a segment register or `iretq` faulted
/// while returning to the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailsafeFrame {
    pub rcx: u64,
    pub r11: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
    pub rip: u64,
    /// Bits 0-15 the selector, bits 32-39 the upcall mask saved at delivery.
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}
crate::assert_layout!(FailsafeFrame, 88; rcx => 0, r11 => 8, ds => 16, gs => 40, rip => 48,
    cs => 56, rflags => 64, rsp => 72, ss => 80);

/// Bytes the failsafe entry drops before RIP: RCX, R11, DS, ES, FS, GS (0x30, as Linux's
/// `xen_failsafe_callback` does).
pub const FAILSAFE_SKIP: usize = core::mem::offset_of!(FailsafeFrame, rip);

/// Where DS sits below RIP in the failsafe frame (0x20): the failsafe entry hands it on in
/// the error-code slot.
pub const FAILSAFE_DS_BELOW_RIP: usize = FAILSAFE_SKIP - core::mem::offset_of!(FailsafeFrame, ds);

/// Bytes an event or exception entry drops before RIP (or before the error code): RCX, R11.
pub const BOUNCE_SKIP: usize = core::mem::offset_of!(FailsafeFrame, ds);

#[cfg(test)]
mod tests {
    use super::*;

    /// What Xen's `create_bounce_frame` stores, in its order: `subq $40` then SS, RSP, CS (with
    /// the saved upcall mask in bits 32-39), RFLAGS, RIP; with TBF_FAILSAFE `subq $32` then GS,
    /// FS, ES, DS; `subq $16` then R11, RCX. Returns the guest stack and the new stack pointer
    /// (an index in words).
    fn xen_failsafe_bounce(regs: &FailsafeFrame, mask: u8) -> ([u64; 16], usize) {
        let mut stack = [0u64; 16];
        let mut rsi = 16;
        rsi -= 5;
        stack[rsi + 4] = regs.ss;
        stack[rsi + 3] = regs.rsp;
        stack[rsi + 1] = (u64::from(mask) << 32) | (regs.cs & 0xffff);
        stack[rsi + 2] = regs.rflags;
        stack[rsi] = regs.rip;
        rsi -= 4;
        stack[rsi + 3] = regs.gs;
        stack[rsi + 2] = regs.fs;
        stack[rsi + 1] = regs.es;
        stack[rsi] = regs.ds;
        rsi -= 2;
        stack[rsi + 1] = regs.r11;
        stack[rsi] = regs.rcx;
        (stack, rsi)
    }

    fn sample() -> FailsafeFrame {
        FailsafeFrame {
            rcx: 0x1111,
            r11: 0x2222,
            ds: 0xe02b,
            es: 0x002b,
            fs: 0x0063,
            gs: 0x006b,
            rip: 0xffff_ffff_8000_1234,
            cs: 0xbee4,
            rflags: 0x8c2,
            rsp: 0xffff_ffff_8020_0000,
            ss: 0xe02b,
        }
    }

    #[test]
    fn failsafe_frame_matches_xens_writes() {
        let want = sample();
        let (stack, sp) = xen_failsafe_bounce(&want, 1);
        let got = FailsafeFrame {
            rcx: stack[sp],
            r11: stack[sp + 1],
            ds: stack[sp + 2],
            es: stack[sp + 3],
            fs: stack[sp + 4],
            gs: stack[sp + 5],
            rip: stack[sp + 6],
            cs: stack[sp + 7],
            rflags: stack[sp + 8],
            rsp: stack[sp + 9],
            ss: stack[sp + 10],
        };
        assert_eq!(
            got,
            FailsafeFrame {
                cs: want.cs | 1 << 32,
                ..want
            }
        );
    }

    #[test]
    fn failsafe_skip_lands_on_rip_not_on_a_segment() {
        let regs = sample();
        let (stack, sp) = xen_failsafe_bounce(&regs, 0);
        let after = sp + FAILSAFE_SKIP / 8;
        assert_eq!(FAILSAFE_SKIP, 0x30);
        assert_eq!(
            stack[after..after + 5],
            [regs.rip, regs.cs, regs.rflags, regs.rsp, regs.ss]
        );
        // The old 16-byte skip reported DS, ES, FS as rip, cs, rflags.
        let old = sp + 2;
        assert_eq!(stack[old..old + 3], [regs.ds, regs.es, regs.fs]);
        assert_eq!(stack[after - FAILSAFE_DS_BELOW_RIP / 8], regs.ds);
        assert_eq!(BOUNCE_SKIP, 16);
        assert_eq!(stack[after + 1] as u16, 0xbee4, "selector in bits 0-15");
    }
}
