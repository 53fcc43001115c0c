//! event_channel.h: EVTCHNOP_* hypercalls.

use super::hypercall::raw2;
use super::{check, XenError};
use xp_core::xen::event_channel::*;
use xp_core::xen::hypercall::{DOMID_SELF, EVENT_CHANNEL_OP};

fn op<T>(cmd: u64, name: &'static str, arg: &mut T) -> Result<(), XenError> {
    // SAFETY: every caller passes the `#[repr(C)]` argument structure that `cmd` expects
    // (layouts asserted in xp_core), alive and exclusively borrowed for the call.
    let rc = unsafe { raw2(EVENT_CHANNEL_OP, cmd, arg as *mut T as u64) };
    check(name, rc).map(|_| ())
}

/// EVTCHNOP_send: notify the remote end of `port`.
pub fn send(port: u32) -> Result<(), XenError> {
    op(EVTCHNOP_SEND, "EVTCHNOP_send", &mut { port })
}

/// EVTCHNOP_bind_virq: a port for `virq` on `vcpu`.
pub fn bind_virq(virq: u32, vcpu: u32) -> Result<u32, XenError> {
    let mut a = BindVirq {
        virq,
        vcpu,
        port: 0,
    };
    op(EVTCHNOP_BIND_VIRQ, "EVTCHNOP_bind_virq", &mut a).map(|_| a.port)
}

/// EVTCHNOP_alloc_unbound: a port `remote_dom` may bind to.
pub fn alloc_unbound(remote_dom: u16) -> Result<u32, XenError> {
    let mut a = AllocUnbound {
        dom: DOMID_SELF,
        remote_dom,
        port: 0,
    };
    op(EVTCHNOP_ALLOC_UNBOUND, "EVTCHNOP_alloc_unbound", &mut a)?;
    log::trace!(
        "evtchn: port {} allocated for domain {remote_dom} to bind",
        a.port
    );
    Ok(a.port)
}

/// EVTCHNOP_bind_interdomain: connect to `remote_port` of `remote_dom`.
pub fn bind_interdomain(remote_dom: u16, remote_port: u32) -> Result<u32, XenError> {
    let mut a = BindInterdomain {
        remote_dom,
        _pad: 0,
        remote_port,
        local_port: 0,
    };
    op(
        EVTCHNOP_BIND_INTERDOMAIN,
        "EVTCHNOP_bind_interdomain",
        &mut a,
    )?;
    log::trace!(
        "evtchn: port {} bound to domain {remote_dom}'s port {remote_port}",
        a.local_port
    );
    Ok(a.local_port)
}

/// EVTCHNOP_close.
pub fn close(port: u32) -> Result<(), XenError> {
    op(EVTCHNOP_CLOSE, "EVTCHNOP_close", &mut { port })?;
    log::trace!("evtchn: port {port} closed");
    Ok(())
}

/// EVTCHNOP_status of one of our ports.
pub fn status(port: u32) -> Result<Status, XenError> {
    let mut a = Status {
        dom: DOMID_SELF,
        port,
        ..Default::default()
    };
    op(EVTCHNOP_STATUS, "EVTCHNOP_status", &mut a).map(|_| a)
}

/// EVTCHNOP_init_control: register `vcpu`'s FIFO control block at byte `offset` of the
/// page `control_gfn` (the first call switches the domain to the FIFO ABI). Returns
/// Xen's LINK field width.
pub fn init_control(control_gfn: u64, offset: u32, vcpu: u32) -> Result<u8, XenError> {
    let mut a = InitControl {
        control_gfn,
        offset,
        vcpu,
        ..Default::default()
    };
    op(EVTCHNOP_INIT_CONTROL, "EVTCHNOP_init_control", &mut a).map(|_| a.link_bits)
}

/// EVTCHNOP_expand_array: give Xen the next page of the FIFO event array.
pub fn expand_array(array_gfn: u64) -> Result<(), XenError> {
    let mut a = ExpandArray { array_gfn };
    op(EVTCHNOP_EXPAND_ARRAY, "EVTCHNOP_expand_array", &mut a)
}

/// EVTCHNOP_set_priority: queue `port`'s future events at `priority` (FIFO only).
pub fn set_priority(port: u32, priority: u32) -> Result<(), XenError> {
    let mut a = SetPriority { port, priority };
    op(EVTCHNOP_SET_PRIORITY, "EVTCHNOP_set_priority", &mut a)
}

/// EVTCHNOP_unmask: Xen clears the mask and re-raises the port if it is pending.
pub fn unmask(port: u32) -> Result<(), XenError> {
    op(EVTCHNOP_UNMASK, "EVTCHNOP_unmask", &mut { port })
}

/// EVTCHNOP_bind_ipi: a port of ours whose EVTCHNOP_send notifies `vcpu`.
pub fn bind_ipi(vcpu: u32) -> Result<u32, XenError> {
    let mut a = BindIpi { vcpu, port: 0 };
    op(EVTCHNOP_BIND_IPI, "EVTCHNOP_bind_ipi", &mut a).map(|_| a.port)
}
