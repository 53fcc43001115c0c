//! Safe drivers above the Xen layer.

pub mod console;
pub mod evtchn;
pub mod gnttab;
pub mod logger;
pub mod ring;
pub mod runstate;
pub mod timer;
pub mod vchan;
pub mod xenstore;
