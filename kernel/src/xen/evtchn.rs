//! event_channel.h: the event-channel operations xenprobe uses so far.

use super::hypercall::raw2;
use xp_core::xen::hypercall::{EVENT_CHANNEL_OP, EVTCHNOP_SEND};

/// EVTCHNOP_send: notify the remote end of `port`.
pub fn send(port: u32) -> Result<(), super::XenError> {
    let arg = port;
    // SAFETY: `struct evtchn_send { evtchn_port_t port; }` is one u32, alive for the call.
    let rc = unsafe { raw2(EVENT_CHANNEL_OP, EVTCHNOP_SEND, &arg as *const u32 as u64) };
    super::check("EVTCHNOP_send", rc).map(|_| ())
}
