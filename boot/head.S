/*
 * xenprobe PV entry and Xen ELF notes (the only place they are emitted).
 *
 * Xen (or libxc's domain builder) reads the notes to load the image at its
 * link address (VIRT_BASE == PADDR_OFFSET), jumps to _start in 64-bit ring 3
 * with rsi = virtual address of start_info and event delivery masked, and
 * fills hypercall_page with one 32-byte stub per hypercall.
 * Note type numbers: xen/include/public/elfnote.h.
 */

.macro xen_note type:req, desc:vararg
    .balign 4
    .long 2f - 1f          /* namesz */
    .long 4f - 3f          /* descsz */
    .long \type
1:  .asciz "Xen"
2:  .balign 4
3:  \desc
4:  .balign 4
.endm

.pushsection .note.Xen, "a", @note
    xen_note 6,  .asciz "xenprobe"                 /* GUEST_OS */
    xen_note 7,  .asciz "0.1"                      /* GUEST_VERSION */
    xen_note 5,  .asciz "xen-3.0"                  /* XEN_VERSION */
    xen_note 3,  .quad 0xffffffff80000000          /* VIRT_BASE */
    xen_note 4,  .quad 0xffffffff80000000          /* PADDR_OFFSET */
    xen_note 1,  .quad _start                      /* ENTRY */
    xen_note 2,  .quad hypercall_page              /* HYPERCALL_PAGE */
    xen_note 8,  .asciz "generic"                  /* LOADER */
    xen_note 17, .long (1 << 11)                   /* SUPPORTED_FEATURES: XENFEAT_dom0 */
.popsection

.pushsection .text.boot, "ax"
.global _start
_start:
    cld
    movq $boot_stack_top, %rsp     /* our own stack, not Xen's one-page boot stack */
    movq %rsi, %rdi                /* start_info */
    call xen_start                 /* never returns */
    ud2
.popsection

.pushsection .text.hypercall_page, "ax"
.balign 4096
.global hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc            /* int3 until Xen writes the stubs */
.popsection

.pushsection .bss.boot_stack, "aw", @nobits
.balign 4096
boot_stack:
    .skip 65536
.global boot_stack_top
boot_stack_top:
.popsection
