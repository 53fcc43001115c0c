//! Safe drivers above the Xen layer.

pub mod console;
pub mod evtchn;
/// The grant table lives in the shared-memory layer (its entries are shared with Xen).
pub use crate::shmem::gnttab;
pub mod logger;
pub mod ring;
pub mod runstate;
pub mod timer;
pub mod vchan;
pub mod xenstore;
