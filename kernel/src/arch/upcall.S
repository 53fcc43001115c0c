/*
 * Event upcall and failsafe entry for a 64-bit PV guest.
 *
 * Xen delivers an event by bouncing onto the current stack:
 *   [rsp] rcx, [rsp+8] r11, rip, cs, rflags, rsp, ss
 * with evtchn_upcall_mask set to 1 ("upcalls are masked during delivery")
 * and the interrupted mask state in the frame's RFLAGS.IF. We save every
 * general register, run xp_event_upcall on a 16-byte aligned stack, restore,
 * and return with HYPERVISOR_iret (hypercall 23), which restores the upcall
 * mask from RFLAGS.IF atomically with the return: an event raised meanwhile
 * is delivered afresh instead of being lost. The iret stub in the hypercall
 * page pushes rcx, r11 and rax itself; we push the `flags` word (0: not in
 * syscall context) on top of rip, cs, rflags, rsp, ss.
 */

.pushsection .text.upcall, "ax"
.global xp_hypervisor_callback
xp_hypervisor_callback:
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq $16, %rsp
    push_gprs
    movq %rsp, %rbx            /* callee-saved: survives the call */
    andq $-16, %rsp
    call xp_event_upcall
    movq %rbx, %rsp
    pop_gprs
    pushq $0                   /* iret_context.flags */
    jmp hypercall_page + 23 * 32

/*
 * Failsafe callback: Xen could not restore our segment state on return.
 * Same frame as an exception without error code, reported as vector 256.
 */
.global xp_failsafe_callback
xp_failsafe_callback:
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq $16, %rsp
    pushq $0
    pushq $256
    jmp trap_common
.popsection
