//! The shared_info page: mapped once at boot over a page cell of the image,
//! then read through the shared-memory layer (atomics at the offsets xp_core
//! asserts); Xen writes it concurrently. Each vCPU's vcpu_info is in shared_info's
//! legacy array until it is registered in a page of ours (VCPUOP_register_vcpu_info).

use crate::shmem::{OutOfRange, PageCell, SharedMem, SharedPage};
use core::cell::Cell;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use xp_core::evtchn_scan::{port_bit, port_word};
use xp_core::pvclock::{read_consistent, wc_sec_from_parts};
use xp_core::smp::MAX_VCPUS;
use xp_core::xen::shared_info::{SharedInfo, VcpuInfo, EVTCHN_WORDS, LEGACY_MAX_VCPUS};
use xp_core::xen::vcpu::VcpuTimeInfo;

/// The page of the image whose mapping is replaced by the shared_info frame.
static SHARED_INFO_PAGE: PageCell = PageCell::new();
static MAPPED: AtomicBool = AtomicBool::new(false);

/// How many times a version-protected read is retried before Xen is declared broken
/// (an update takes Xen a few hundred instructions; this is far beyond that).
const MAX_TRIES: u32 = 10_000;

/// Why a clock record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockError {
    NotMapped,
    /// The version stayed odd or kept changing for [`MAX_TRIES`] reads.
    Unsettled(&'static str),
}

impl core::fmt::Display for ClockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClockError::NotMapped => f.write_str("shared_info is not mapped"),
            ClockError::Unsettled(what) => write!(
                f,
                "{what} version never settled in {MAX_TRIES} reads (Xen is updating it forever)"
            ),
        }
    }
}

/// Map shared_info (given as a machine address in start_info) over our reserved page.
pub fn map(shared_info_maddr: u64) -> Result<(), super::XenError> {
    use crate::mm::pte;
    let entry = pte::entry(shared_info_maddr >> 12, pte::DATA_RW);
    // SAFETY: SHARED_INFO_PAGE is a page cell of our image, only accessed through SharedPage.
    unsafe { super::mmu::update_va_mapping(SHARED_INFO_PAGE.va(), entry)? };
    MAPPED.store(true, Ordering::Release);
    log::debug!("shared_info at maddr {shared_info_maddr:#x} mapped");
    Ok(())
}

fn page() -> Option<SharedPage<'static>> {
    MAPPED
        .load(Ordering::Acquire)
        .then(|| SharedPage::new(&SHARED_INFO_PAGE))
}

/// Registered vcpu_infos (VCPUOP_register_vcpu_info): one 64-byte slot per vCPU.
static VCPU_INFO_PAGE: PageCell = PageCell::new();
static REGISTERED: [AtomicBool; MAX_VCPUS as usize] =
    [const { AtomicBool::new(false) }; MAX_VCPUS as usize];

/// Where `cpu`'s vcpu_info is now: its registered slot, or shared_info's legacy array
/// (the first 32 vCPUs). Xen writes only the current one, so every access goes here.
fn vcpu_info(cpu: u32) -> Option<(SharedPage<'static>, usize)> {
    let size = size_of::<VcpuInfo>();
    if REGISTERED.get(cpu as usize)?.load(Ordering::Acquire) {
        return Some((SharedPage::new(&VCPU_INFO_PAGE), cpu as usize * size));
    }
    let legacy = (cpu as usize) < LEGACY_MAX_VCPUS;
    let off = offset_of!(SharedInfo, vcpu_info) + cpu as usize * size;
    legacy.then(page).flatten().map(|p| (p, off))
}

/// The running vCPU's vcpu_info.
fn my_vcpu_info() -> Option<(SharedPage<'static>, usize)> {
    vcpu_info(crate::arch::percpu::this_vcpu())
}

/// Move `cpu`'s vcpu_info into our page (slot `cpu`); Xen copies the old contents over and
/// marks every event pending once, so nothing raised meanwhile is lost.
pub fn register_vcpu_info(cpu: u32) -> Result<(), super::XenError> {
    let bad = |call| super::XenError { call, rc: -22 };
    let slot = REGISTERED
        .get(cpu as usize)
        .ok_or(bad("vcpu_info slot (vCPU id above 63)"))?;
    let mfn = crate::mm::va_to_mfn(VCPU_INFO_PAGE.va()).ok_or(bad("vcpu_info page frame"))?;
    let offset = cpu * size_of::<VcpuInfo>() as u32;
    // SAFETY: VCPU_INFO_PAGE is a page of our image reached only through SharedPage, and
    // slot `cpu` is this vCPU's for the life of the domain.
    unsafe { super::vcpu::register_vcpu_info(cpu, mfn, offset)? };
    slot.store(true, Ordering::Release);
    Ok(())
}

/// A consistent copy of the running vCPU's time info: xp_core's version protocol
/// (version, body, version, each an Acquire load), retried a bounded number of times.
pub fn time_info() -> Result<VcpuTimeInfo, ClockError> {
    let (p, vi) = my_vcpu_info().ok_or(ClockError::NotMapped)?;
    let t = vi + offset_of!(VcpuInfo, time);
    let seen = Cell::new(0);
    let version = || {
        seen.set(p.load32(t + offset_of!(VcpuTimeInfo, version)));
        seen.get()
    };
    let body = || VcpuTimeInfo {
        version: seen.get(),
        _pad0: 0,
        tsc_timestamp: p.load64(t + offset_of!(VcpuTimeInfo, tsc_timestamp)),
        system_time: p.load64(t + offset_of!(VcpuTimeInfo, system_time)),
        tsc_to_system_mul: p.load32(t + offset_of!(VcpuTimeInfo, tsc_to_system_mul)),
        tsc_shift: p.load8(t + offset_of!(VcpuTimeInfo, tsc_shift)) as i8,
        flags: p.load8(t + offset_of!(VcpuTimeInfo, flags)),
        _pad1: [0; 2],
    };
    read_consistent(MAX_TRIES, version, body).ok_or(ClockError::Unsettled("vcpu_time_info"))
}

/// cr2 as Xen saved it for the running vCPU's last page fault (vcpu_info.arch.cr2).
pub fn fault_cr2() -> Option<u64> {
    let (p, vi) = my_vcpu_info()?;
    Some(p.load64(vi + offset_of!(VcpuInfo, arch)))
}

/// Wall clock base (seconds, nanoseconds) at system time 0, read under wc_version.
pub fn wallclock() -> Result<(u64, u32), ClockError> {
    let p = page().ok_or(ClockError::NotMapped)?;
    let version = || p.load32(offset_of!(SharedInfo, wc_version));
    let body = || {
        let sec = p.load32(offset_of!(SharedInfo, wc_sec));
        let hi = p.load32(offset_of!(SharedInfo, wc_sec_hi));
        (
            wc_sec_from_parts(sec, hi),
            p.load32(offset_of!(SharedInfo, wc_nsec)),
        )
    };
    read_consistent(MAX_TRIES, version, body).ok_or(ClockError::Unsettled("wall clock"))
}

/// The 2-level event-channel bitmaps and one vCPU's selector and upcall flags, as atomics.
///
/// Xen sets bits with locked operations; we only ever clear or test them
/// atomically, never with plain word writes. A word index outside the 64
/// words of a bitmap is an error, never clamped to another word.
pub struct EventBits {
    p: SharedPage<'static>,
    /// The vCPU's vcpu_info: its page and offset.
    vp: SharedPage<'static>,
    vi: usize,
    /// Which vCPU.
    pub cpu: u32,
}

/// The event bitmaps and the running vCPU's flags, once shared_info is mapped.
pub fn events() -> Option<EventBits> {
    events_of(crate::arch::percpu::this_vcpu())
}

/// The event bitmaps and vCPU `cpu`'s flags.
pub fn events_of(cpu: u32) -> Option<EventBits> {
    let (vp, vi) = vcpu_info(cpu)?;
    page().map(|p| EventBits { p, vp, vi, cpu })
}

impl EventBits {
    fn word(&self, field: usize, i: usize) -> Result<&'static AtomicU64, OutOfRange> {
        if i >= EVTCHN_WORDS {
            return Err(OutOfRange {
                off: i,
                len: 1,
                limit: EVTCHN_WORDS,
            });
        }
        self.p.u64(field + i * 8)
    }
    /// `evtchn_pending[i]`.
    pub fn pending(&self, i: usize) -> Result<&'static AtomicU64, OutOfRange> {
        self.word(offset_of!(SharedInfo, evtchn_pending), i)
    }
    /// `evtchn_mask[i]`.
    pub fn mask(&self, i: usize) -> Result<&'static AtomicU64, OutOfRange> {
        self.word(offset_of!(SharedInfo, evtchn_mask), i)
    }
    /// The vCPU's `evtchn_pending_sel`.
    pub fn selector(&self) -> &'static AtomicU64 {
        let off = self.vi + offset_of!(VcpuInfo, evtchn_pending_sel);
        self.vcpu_field(self.vp.u64(off))
    }
    /// The vCPU's `evtchn_upcall_pending`.
    pub fn upcall_pending(&self) -> &'static AtomicU8 {
        let off = self.vi + offset_of!(VcpuInfo, evtchn_upcall_pending);
        self.vcpu_field(self.vp.u8(off))
    }
    /// The vCPU's `evtchn_upcall_mask` (1 = event delivery masked).
    pub fn upcall_mask(&self) -> &'static AtomicU8 {
        let off = self.vi + offset_of!(VcpuInfo, evtchn_upcall_mask);
        self.vcpu_field(self.vp.u8(off))
    }
    /// Fixed fields of a vcpu_info slot are inside the page (xp_core asserts the layout).
    fn vcpu_field<T>(&self, r: Result<T, OutOfRange>) -> T {
        r.unwrap_or_else(|e| panic!("vcpu_info field: {e}"))
    }
}

/// Clear the pending bit of `port` atomically (never a plain word write). A port beyond
/// the 2-level ABI's 4096 has no pending bit: Err.
pub fn clear_pending(port: u32) -> Result<(), OutOfRange> {
    if let Some(e) = events() {
        e.pending(port_word(port))?
            .fetch_and(!port_bit(port), Ordering::AcqRel);
    }
    Ok(())
}
