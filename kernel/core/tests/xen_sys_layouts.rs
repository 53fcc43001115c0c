//! Our trimmed Xen ABI structs against xen-sys's bindgen output of the Xen headers:
//! same sizes and field offsets (an independent source next to the C-derived asserts).

use core::mem::{offset_of, size_of};
use xp_core::xen::{shared_info, start_info, vcpu};

#[test]
fn start_info_matches_xen_sys() {
    type X = xen_sys::start_info;
    assert_eq!(size_of::<start_info::StartInfo>(), size_of::<X>());
    assert_eq!(
        offset_of!(start_info::StartInfo, nr_pages),
        offset_of!(X, nr_pages)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, shared_info),
        offset_of!(X, shared_info)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, store_mfn),
        offset_of!(X, store_mfn)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, console_mfn),
        offset_of!(X, console)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, pt_base),
        offset_of!(X, pt_base)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, mfn_list),
        offset_of!(X, mfn_list)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, cmd_line),
        offset_of!(X, cmd_line)
    );
    assert_eq!(
        offset_of!(start_info::StartInfo, nr_p2m_frames),
        offset_of!(X, nr_p2m_frames)
    );
}

#[test]
fn shared_info_matches_xen_sys() {
    type S = xen_sys::shared_info;
    type V = xen_sys::vcpu_info;
    assert_eq!(size_of::<shared_info::VcpuInfo>(), size_of::<V>());
    assert_eq!(
        offset_of!(shared_info::VcpuInfo, evtchn_pending_sel),
        offset_of!(V, evtchn_pending_sel)
    );
    assert_eq!(offset_of!(shared_info::VcpuInfo, time), offset_of!(V, time));
    assert_eq!(size_of::<shared_info::SharedInfo>(), size_of::<S>());
    assert_eq!(
        offset_of!(shared_info::SharedInfo, evtchn_pending),
        offset_of!(S, evtchn_pending)
    );
    assert_eq!(
        offset_of!(shared_info::SharedInfo, evtchn_mask),
        offset_of!(S, evtchn_mask)
    );
    assert_eq!(
        offset_of!(shared_info::SharedInfo, wc_version),
        offset_of!(S, wc_version)
    );
    assert_eq!(
        offset_of!(shared_info::SharedInfo, wc_sec_hi),
        offset_of!(S, wc_sec_hi)
    );
}

#[test]
fn vcpu_time_info_matches_xen_sys() {
    assert_eq!(
        size_of::<vcpu::VcpuTimeInfo>(),
        size_of::<xen_sys::vcpu_time_info>()
    );
    assert_eq!(
        offset_of!(vcpu::VcpuTimeInfo, tsc_to_system_mul),
        offset_of!(xen_sys::vcpu_time_info, tsc_to_system_mul)
    );
}

#[test]
fn fifo_event_channel_abi_matches_xen_sys() {
    use xp_core::xen::event_channel as ec;
    type C = xen_sys::evtchn_fifo_control_block;
    assert_eq!(size_of::<ec::EvtchnFifoControlBlock>(), size_of::<C>());
    assert_eq!(
        offset_of!(ec::EvtchnFifoControlBlock, head),
        offset_of!(C, head)
    );
    type I = xen_sys::evtchn_init_control;
    assert_eq!(size_of::<ec::InitControl>(), size_of::<I>());
    assert_eq!(offset_of!(ec::InitControl, vcpu), offset_of!(I, vcpu));
    assert_eq!(
        offset_of!(ec::InitControl, link_bits),
        offset_of!(I, link_bits)
    );
    assert_eq!(
        size_of::<ec::ExpandArray>(),
        size_of::<xen_sys::evtchn_expand_array>()
    );
    assert_eq!(
        size_of::<ec::SetPriority>(),
        size_of::<xen_sys::evtchn_set_priority>()
    );
    let ops = [
        (ec::EVTCHNOP_INIT_CONTROL, xen_sys::EVTCHNOP_init_control),
        (ec::EVTCHNOP_EXPAND_ARRAY, xen_sys::EVTCHNOP_expand_array),
        (ec::EVTCHNOP_SET_PRIORITY, xen_sys::EVTCHNOP_set_priority),
        (ec::EVTCHNOP_UNMASK, xen_sys::EVTCHNOP_unmask),
    ];
    ops.iter()
        .for_each(|&(ours, theirs)| assert_eq!(ours, u64::from(theirs)));
    let consts = [
        (ec::EVTCHN_FIFO_PENDING, xen_sys::EVTCHN_FIFO_PENDING),
        (ec::EVTCHN_FIFO_MASKED, xen_sys::EVTCHN_FIFO_MASKED),
        (ec::EVTCHN_FIFO_LINKED, xen_sys::EVTCHN_FIFO_LINKED),
        (ec::EVTCHN_FIFO_BUSY, xen_sys::EVTCHN_FIFO_BUSY),
        (ec::EVTCHN_FIFO_LINK_MASK, xen_sys::EVTCHN_FIFO_LINK_MASK),
        (
            ec::EVTCHN_FIFO_NR_CHANNELS,
            xen_sys::EVTCHN_FIFO_NR_CHANNELS,
        ),
        (
            ec::EVTCHN_FIFO_PRIORITY_DEFAULT,
            xen_sys::EVTCHN_FIFO_PRIORITY_DEFAULT,
        ),
        (
            ec::EVTCHN_FIFO_PRIORITY_MIN,
            xen_sys::EVTCHN_FIFO_PRIORITY_MIN,
        ),
    ];
    consts
        .iter()
        .for_each(|&(ours, theirs)| assert_eq!(ours, theirs));
}

#[test]
fn vcpu_guest_context_matches_xen_sys() {
    use xp_core::xen::arch_x86::{CpuUserRegs, VcpuGuestContext};
    type C = xen_sys::vcpu_guest_context;
    type R = xen_sys::cpu_user_regs;
    assert_eq!(size_of::<CpuUserRegs>(), size_of::<R>());
    assert_eq!(offset_of!(CpuUserRegs, r12), offset_of!(R, r12));
    assert_eq!(offset_of!(CpuUserRegs, r11), offset_of!(R, r11));
    assert_eq!(
        offset_of!(CpuUserRegs, error_code),
        offset_of!(R, error_code)
    );
    assert_eq!(offset_of!(CpuUserRegs, cs), offset_of!(R, cs));
    assert_eq!(
        offset_of!(CpuUserRegs, saved_upcall_mask),
        offset_of!(R, saved_upcall_mask)
    );
    assert_eq!(offset_of!(CpuUserRegs, ss), offset_of!(R, ss));
    assert_eq!(size_of::<VcpuGuestContext>(), size_of::<C>());
    assert_eq!(offset_of!(VcpuGuestContext, flags), offset_of!(C, flags));
    assert_eq!(
        offset_of!(VcpuGuestContext, user_regs),
        offset_of!(C, user_regs)
    );
    assert_eq!(
        offset_of!(VcpuGuestContext, trap_ctxt),
        offset_of!(C, trap_ctxt)
    );
    assert_eq!(
        offset_of!(VcpuGuestContext, gdt_ents),
        offset_of!(C, gdt_ents)
    );
    assert_eq!(
        offset_of!(VcpuGuestContext, kernel_sp),
        offset_of!(C, kernel_sp)
    );
    assert_eq!(
        offset_of!(VcpuGuestContext, ctrlreg),
        offset_of!(C, ctrlreg)
    );
    assert_eq!(
        offset_of!(VcpuGuestContext, event_callback_eip),
        offset_of!(C, event_callback_eip)
    );
    assert_eq!(
        offset_of!(VcpuGuestContext, gs_base_kernel),
        offset_of!(C, gs_base_kernel)
    );
    assert_eq!(
        xp_core::xen::arch_x86::SEGBASE_GS_KERNEL,
        xen_sys::SEGBASE_GS_KERNEL as u64
    );
    assert_eq!(
        xp_core::xen::arch_x86::FLAT_KERNEL_SS64 as u32,
        xen_sys::FLAT_KERNEL_SS64
    );
    assert_eq!(
        xp_core::xen::arch_x86::VgcFlags::IN_KERNEL.bits(),
        xen_sys::VGCF_in_kernel as u64
    );
}

#[test]
fn event_channel_ipi_matches_xen_sys() {
    use xp_core::xen::event_channel::{BindIpi, BindVcpu, EVTCHNOP_BIND_IPI};
    assert_eq!(size_of::<BindIpi>(), size_of::<xen_sys::evtchn_bind_ipi>());
    assert_eq!(
        offset_of!(BindIpi, port),
        offset_of!(xen_sys::evtchn_bind_ipi, port)
    );
    assert_eq!(
        size_of::<BindVcpu>(),
        size_of::<xen_sys::evtchn_bind_vcpu>()
    );
    assert_eq!(
        offset_of!(BindVcpu, vcpu),
        offset_of!(xen_sys::evtchn_bind_vcpu, vcpu)
    );
    assert_eq!(EVTCHNOP_BIND_IPI, xen_sys::EVTCHNOP_bind_ipi as u64);
    assert_eq!(
        xp_core::xen::hypercall::SET_SEGMENT_BASE,
        xen_sys::__HYPERVISOR_set_segment_base as usize
    );
}

/// The flag words xp-core types with bitflags carry the bits Xen's headers define.
#[test]
fn flag_words_match_xen_sys() {
    use xp_core::pvclock::PvclockFlags as P;
    use xp_core::xen::arch_x86::VgcFlags as G;
    use xp_core::xen::start_info::SifFlags as S;
    use xp_core::xen::vcpu::VmAssist as V;
    let sif = [
        (S::PRIVILEGED, xen_sys::SIF_PRIVILEGED),
        (S::INITDOMAIN, xen_sys::SIF_INITDOMAIN),
        (S::MULTIBOOT_MOD, xen_sys::SIF_MULTIBOOT_MOD),
        (S::MOD_START_PFN, xen_sys::SIF_MOD_START_PFN),
        (S::VIRT_P2M_4TOOLS, xen_sys::SIF_VIRT_P2M_4TOOLS),
        (S::PM_MASK, xen_sys::SIF_PM_MASK),
    ];
    for (ours, xen) in sif {
        assert_eq!(u64::from(ours.bits()), xen as u64, "{ours:?}");
    }
    let vgcf = [
        (G::I387_VALID, xen_sys::VGCF_i387_valid),
        (G::IN_KERNEL, xen_sys::VGCF_in_kernel),
        (
            G::FAILSAFE_DISABLES_EVENTS,
            xen_sys::VGCF_failsafe_disables_events,
        ),
        (
            G::SYSCALL_DISABLES_EVENTS,
            xen_sys::VGCF_syscall_disables_events,
        ),
        (G::ONLINE, xen_sys::VGCF_online),
    ];
    for (ours, xen) in vgcf {
        assert_eq!(ours.bits(), xen as u64, "{ours:?}");
    }
    let vmasst = [
        (
            V::WRITABLE_PAGETABLES,
            xen_sys::VMASST_TYPE_writable_pagetables,
        ),
        (V::PAE_EXTENDED_CR3, xen_sys::VMASST_TYPE_pae_extended_cr3),
        (
            V::ARCHITECTURAL_IOPL,
            xen_sys::VMASST_TYPE_architectural_iopl,
        ),
        (
            V::RUNSTATE_UPDATE_FLAG,
            xen_sys::VMASST_TYPE_runstate_update_flag,
        ),
        (V::M2P_STRICT, xen_sys::VMASST_TYPE_m2p_strict),
    ];
    for (ours, xen) in vmasst {
        assert_eq!(ours.kind(), xen as u64, "{ours:?}");
    }
    assert_eq!(
        u64::from(P::TSC_STABLE.bits()),
        xen_sys::XEN_PVCLOCK_TSC_STABLE_BIT as u64
    );
    assert_eq!(
        u64::from(P::GUEST_STOPPED.bits()),
        xen_sys::XEN_PVCLOCK_GUEST_STOPPED as u64
    );
}
