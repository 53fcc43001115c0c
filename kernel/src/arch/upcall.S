/*
 * Event upcall and failsafe entry for a 64-bit PV guest.
 *
 * Xen delivers an event by bouncing onto the current stack
 *   [rsp] rcx, [rsp+8] r11, rip, cs, rflags, rsp, ss
 * with evtchn_upcall_mask set to 1 ("upcalls are masked during delivery")
 * and the interrupted mask state in the frame's RFLAGS.IF
 * (xp_core::xen::bounce describes the frames Xen bounces; the offsets used
 * here come from there as the bounce_skip and failsafe_skip operands).
 * We clear the direction flag, save every general register, run
 * xp_event_upcall on a 16-byte aligned stack, restore, and return with
 * HYPERVISOR_iret (hypercall 23), which restores the upcall mask from
 * RFLAGS.IF atomically with the return: an event raised meanwhile is
 * delivered afresh instead of being lost. The iret stub in the hypercall
 * page pushes rcx, r11 and rax itself; we push the `flags` word (0: not in
 * syscall context) on top of rip, cs, rflags, rsp, ss.
 */

.pushsection .text.upcall, "ax"
.global xp_hypervisor_callback
xp_hypervisor_callback:
    cld                        /* iret restores the interrupted rflags.DF */
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq ${bounce_skip}, %rsp
    push_gprs
    movq %rsp, %rbx            /* callee-saved: survives the call */
    andq $-16, %rsp
    call xp_event_upcall
    movq %rbx, %rsp
    pop_gprs
    pushq $0                   /* iret_context.flags */
    jmp hypercall_page + {iret_stub}    /* HYPERVISOR_iret */

/*
 * Failsafe callback: Xen could not load a segment register, or its iretq to
 * us faulted. Xen pushes ds, es, fs, gs between r11 and rip:
 *   [rsp] rcx, r11, ds, es, fs, gs, [rsp+0x30] rip, cs, rflags, rsp, ss
 * so 0x30 bytes go (failsafe_skip) and the rest is an exception frame whose
 * error code is DS as Xen saw it, reported as vector 256.
 */
.global xp_failsafe_callback
xp_failsafe_callback:
    cld
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq ${failsafe_skip}, %rsp
    pushq -{failsafe_ds_below_rip}(%rsp)   /* ds, read before rsp moves */
    pushq ${failsafe_vector}
    jmp trap_common
.popsection
