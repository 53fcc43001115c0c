//! Several vCPUs: the boot vCPU starts the others (VCPUOP_initialise with their own
//! stack, callbacks, GS base and our page tables, then VCPUOP_up); each one sets up its
//! own trap table, runstate area and timer, then idles in SCHEDOP_block and runs the
//! jobs the boot vCPU posts to it. Every vCPU has an IPI port (EVTCHNOP_bind_ipi) that
//! kicks it; its handler records when it ran, which is what the wakeup probe measures.

mod start;

use crate::drv::evtchn;
use crate::xen::XenError;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use spin::{Mutex, Once};
use xp_core::smp::MAX_VCPUS;

pub use start::start_all;

/// A job for a vCPU: runs there with its id.
pub type Job = fn(u32);

/// What the vCPUs share about each other.
pub struct Vcpu {
    /// The IPI port that notifies this vCPU (0: none).
    pub kick_port: AtomicU32,
    /// Kicks its handler took, and when it last ran (system time, and the TSC read with it).
    pub kicks: AtomicU64,
    pub last_kick_ns: AtomicU64,
    pub last_kick_tsc: AtomicU64,
    /// Answer every kick with a kick to vCPU 0 (the wakeup probe's echo).
    pub echo: AtomicBool,
    /// Reached its idle loop.
    online: AtomicBool,
    job: Mutex<Option<Job>>,
    job_gen: AtomicU64,
    done_gen: AtomicU64,
    /// What failed in its own setup.
    setup_error: Once<XenError>,
}

static VCPUS: [Vcpu; MAX_VCPUS as usize] = [const {
    Vcpu {
        kick_port: AtomicU32::new(0),
        kicks: AtomicU64::new(0),
        last_kick_ns: AtomicU64::new(0),
        last_kick_tsc: AtomicU64::new(0),
        echo: AtomicBool::new(false),
        online: AtomicBool::new(false),
        job: Mutex::new(None),
        job_gen: AtomicU64::new(0),
        done_gen: AtomicU64::new(0),
        setup_error: Once::new(),
    }
}; MAX_VCPUS as usize];

/// vCPUs in use (ids 0..ACTIVE).
static ACTIVE: AtomicU32 = AtomicU32::new(1);
/// vCPUs the domain has (what Xen answered).
static AVAILABLE: AtomicU32 = AtomicU32::new(1);

/// vCPUs in use: ids `0..count()`.
pub fn count() -> u32 {
    ACTIVE.load(Acquire)
}

/// vCPUs the domain has.
pub fn available() -> u32 {
    AVAILABLE.load(Acquire)
}

/// vCPU `id`'s shared state.
pub fn vcpu(id: u32) -> &'static Vcpu {
    &VCPUS[id as usize % VCPUS.len()]
}

/// Give the running vCPU its kick port (an IPI to itself is a same-vCPU loopback).
fn bind_kick(id: u32) -> Result<u32, XenError> {
    let port = evtchn::bind_ipi(id)?;
    evtchn::bind(port, on_kick)?;
    vcpu(id).kick_port.store(port, Release);
    Ok(port)
}

/// Runs on the kicked vCPU (its port notifies only it).
fn on_kick(_port: u32) {
    let now = crate::time::stamp();
    let v = vcpu(crate::arch::percpu::this_vcpu());
    v.last_kick_ns.store(now.ns, Relaxed);
    v.last_kick_tsc.store(now.tsc, Relaxed);
    v.kicks.fetch_add(1, Release);
    if v.echo.load(Acquire) {
        let _ = kick(0);
    }
}

/// Send vCPU `id` a kick (EVTCHNOP_send on its IPI port).
pub fn kick(id: u32) -> Result<(), XenError> {
    match vcpu(id).kick_port.load(Acquire) {
        0 => Err(XenError {
            call: "kick (vCPU has no IPI port)",
            rc: -22,
        }),
        port => evtchn::send(port),
    }
}

/// Post `job` to secondary vCPU `id` (it runs it from its idle loop).
pub fn post(id: u32, job: Job) {
    let v = vcpu(id);
    *v.job.lock() = Some(job);
    v.job_gen.fetch_add(1, AcqRel);
    let _ = kick(id);
}

/// Whether vCPU `id` finished the last job posted to it.
pub fn done(id: u32) -> bool {
    let v = vcpu(id);
    v.done_gen.load(Acquire) == v.job_gen.load(Acquire)
}

/// Wait (blocked; the finishing vCPU kicks vCPU 0) until every secondary is done, or
/// until `deadline_ns`. Returns whether all finished.
pub fn join_all(deadline_ns: u64) -> bool {
    crate::drv::timer::wait_until(deadline_ns, || (1..count()).all(done))
}

/// A secondary's loop: run posted jobs, sleep otherwise (events are delivered in block).
fn idle(id: u32) -> ! {
    let v = vcpu(id);
    v.online.store(true, Release);
    let _ = kick(0);
    loop {
        let gen = v.job_gen.load(Acquire);
        if gen != v.done_gen.load(Acquire) {
            let job = *v.job.lock();
            if let Some(f) = job {
                f(id);
            }
            v.done_gen.store(gen, Release);
            let _ = kick(0);
        }
        evtchn::block();
    }
}
