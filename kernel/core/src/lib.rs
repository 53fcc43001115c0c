//! Pure logic of the xenprobe kernel.
//!
//! Everything here is plain, safe Rust that builds both for the kernel
//! (`x86_64-unknown-none`, `no_std`) and for the host, where `cargo test`
//! exercises it. Nothing in this crate touches hardware or shared memory
//! directly: the kernel feeds it values it has read through its accessors.
#![cfg_attr(not(any(test, feature = "serde")), no_std)]
#![forbid(unsafe_code)]

pub mod cmdline;
pub mod json;
pub mod outcome;
pub mod records;
pub mod ring;
pub mod ringep;
pub mod ringmsg;
pub mod ringpol;
pub mod runstate;
pub mod shmem;
pub mod shring;
pub mod smp;
pub mod xen;
pub mod xentrace;
// Time, statistics and stall classification (timer and stall probes).
pub mod evtchn_fifo;
pub mod evtchn_scan;
pub mod hist;
pub mod pvclock;
pub mod stall;
pub mod timerq;
pub mod vchan;
pub mod wake;
pub mod watchdog;
pub mod xenbus;
// xenstore wire protocol and ring transport.
pub mod xs;
