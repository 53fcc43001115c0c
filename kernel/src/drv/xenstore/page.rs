//! The xenstore ring page, shared with xenstored: xp_core's `StorePage` (the
//! index offsets and orderings of `struct xenstore_domain_interface` and its
//! header words, host-tested) over the shared-memory layer.

/// The mapped store page.
pub type SharedPage = xp_core::xs::StorePage<crate::shmem::SharedPage<'static>>;
