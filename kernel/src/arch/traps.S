/*
 * Exception entry stubs for a 64-bit PV guest.
 *
 * Xen bounces an exception onto the current stack as
 *   [rsp] rcx, [rsp+8] r11, ([rsp+16] error code), rip, cs, rflags, rsp, ss.
 * Each stub clears the direction flag (the C ABI wants it clear on entry; the
 * interrupted code may have set it), restores rcx/r11, drops their slots
 * (BOUNCE_SKIP, xp_core::xen::bounce), pushes a zero error code where the CPU
 * has none, then the vector, then all general registers, and calls
 * xp_trap(frame). The handler reports and ends the domain: it never
 * returns, so there is no iret path.
 */

.macro trap_noerr name, vec
.global \name
\name:
    cld
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq ${bounce_skip}, %rsp
    pushq $0
    pushq $\vec
    jmp trap_common
.endm

.macro trap_err name, vec
.global \name
\name:
    cld
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq ${bounce_skip}, %rsp
    pushq $\vec
    jmp trap_common
.endm

.pushsection .text.traps, "ax"
trap_noerr xp_trap_de, 0
trap_noerr xp_trap_db, 1
trap_noerr xp_trap_bp, 3
trap_noerr xp_trap_of, 4
trap_noerr xp_trap_br, 5
trap_noerr xp_trap_ud, 6
trap_noerr xp_trap_nm, 7
trap_err   xp_trap_ts, 10
trap_err   xp_trap_np, 11
trap_err   xp_trap_ss, 12
trap_err   xp_trap_gp, 13
trap_err   xp_trap_pf, 14
trap_noerr xp_trap_mf, 16
trap_err   xp_trap_ac, 17
trap_noerr xp_trap_mc, 18
trap_noerr xp_trap_xm, 19

.global trap_common
trap_common:
    push_gprs
    movq %rsp, %rdi
    andq $-16, %rsp
    call xp_trap
    ud2
.popsection
