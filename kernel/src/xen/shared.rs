//! The shared_info page: mapped once at boot, then read through typed accessors.
//!
//! Xen writes this page concurrently, so it is never a Rust reference: fields
//! are read with volatile loads or atomics at the offsets xp_core asserts.

use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, Ordering};
use xp_core::xen::shared_info::{SharedInfo, VcpuInfo};
use xp_core::xen::vcpu::VcpuTimeInfo;
use xp_core::xen::PAGE_SIZE;

/// A page of the image whose mapping is replaced by the shared_info frame.
#[repr(C, align(4096))]
struct Page([u8; PAGE_SIZE]);
static mut SHARED_INFO_PAGE: Page = Page([0; PAGE_SIZE]);

static SHARED: AtomicPtr<SharedInfo> = AtomicPtr::new(core::ptr::null_mut());

/// Map shared_info (given as a machine address in start_info) over our reserved page.
pub fn map(shared_info_maddr: u64) -> Result<(), super::XenError> {
    let va = core::ptr::addr_of_mut!(SHARED_INFO_PAGE) as u64;
    let pte = (shared_info_maddr & xp_core::xen::hypercall::pte::ADDR_MASK)
        | xp_core::xen::hypercall::pte::DATA_RW;
    super::mmu::update_va_mapping(va, pte)?;
    SHARED.store(va as *mut SharedInfo, Ordering::Release);
    Ok(())
}

fn base() -> Option<*mut SharedInfo> {
    let p = SHARED.load(Ordering::Acquire);
    (!p.is_null()).then_some(p)
}

fn vcpu0() -> Option<*mut VcpuInfo> {
    // SAFETY: `base` points at a mapped shared_info page; taking a field address reads nothing.
    base().map(|s| unsafe { core::ptr::addr_of_mut!((*s).vcpu_info[0]) })
}

/// A consistent copy of vCPU 0's time info (retries while Xen updates it).
pub fn time_info() -> Option<VcpuTimeInfo> {
    let v = vcpu0()?;
    loop {
        // SAFETY: `v` points into the mapped shared_info page; volatile reads, Xen may write
        // concurrently, which the version protocol below detects.
        let (t, ver2) = unsafe {
            let p = core::ptr::addr_of!((*v).time);
            let t = core::ptr::read_volatile(p);
            core::sync::atomic::fence(Ordering::Acquire);
            (
                t,
                core::ptr::read_volatile(core::ptr::addr_of!((*p).version)),
            )
        };
        if t.version & 1 == 0 && t.version == ver2 {
            return Some(t);
        }
        core::hint::spin_loop();
    }
}

/// cr2 as Xen saved it for the last page fault (vcpu_info.arch.cr2), if mapped.
pub fn fault_cr2() -> Option<u64> {
    let v = vcpu0()?;
    // SAFETY: volatile read of a field of the mapped vcpu_info.
    Some(unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*v).arch.cr2)) })
}

/// Wall clock base (seconds, nanoseconds) at system time 0, read under wc_version.
pub fn wallclock() -> Option<(u64, u32)> {
    let s = base()?;
    loop {
        // SAFETY: volatile reads of fields of the mapped shared_info; retried on change.
        let (v1, sec, hi, nsec, v2) = unsafe {
            let v1 = core::ptr::read_volatile(core::ptr::addr_of!((*s).wc_version));
            core::sync::atomic::fence(Ordering::Acquire);
            let sec = core::ptr::read_volatile(core::ptr::addr_of!((*s).wc_sec));
            let hi = core::ptr::read_volatile(core::ptr::addr_of!((*s).wc_sec_hi));
            let nsec = core::ptr::read_volatile(core::ptr::addr_of!((*s).wc_nsec));
            core::sync::atomic::fence(Ordering::Acquire);
            (
                v1,
                sec,
                hi,
                nsec,
                core::ptr::read_volatile(core::ptr::addr_of!((*s).wc_version)),
            )
        };
        if v1 & 1 == 0 && v1 == v2 {
            return Some(((hi as u64) << 32 | sec as u64, nsec));
        }
    }
}

/// The 2-level event-channel bitmaps and vCPU 0's selector, as atomics.
///
/// Xen sets bits with locked operations; we only ever clear or test them
/// atomically, never with plain word writes.
pub struct EventBits {
    s: *mut SharedInfo,
    v: *mut VcpuInfo,
}

/// The event bitmaps, once shared_info is mapped.
pub fn events() -> Option<EventBits> {
    Some(EventBits {
        s: base()?,
        v: vcpu0()?,
    })
}

impl EventBits {
    fn word(&self, field: *mut [u64; 64], i: usize) -> &AtomicU64 {
        // SAFETY: `field` is an array inside the mapped shared_info page, `i` is clamped to
        // it, and these words are only accessed atomically (by us and by Xen).
        unsafe { AtomicU64::from_ptr((field as *mut u64).add(i.min(63))) }
    }
    /// `evtchn_pending[i]`.
    pub fn pending(&self, i: usize) -> &AtomicU64 {
        // SAFETY: address of a field of the mapped page; nothing is read here.
        self.word(
            unsafe { core::ptr::addr_of_mut!((*self.s).evtchn_pending) },
            i,
        )
    }
    /// `evtchn_mask[i]`.
    pub fn mask(&self, i: usize) -> &AtomicU64 {
        // SAFETY: as above.
        self.word(unsafe { core::ptr::addr_of_mut!((*self.s).evtchn_mask) }, i)
    }
    /// vCPU 0's `evtchn_pending_sel`.
    pub fn selector(&self) -> &AtomicU64 {
        // SAFETY: an aligned u64 of the mapped vcpu_info, only accessed atomically.
        unsafe { AtomicU64::from_ptr(core::ptr::addr_of_mut!((*self.v).evtchn_pending_sel)) }
    }
    /// vCPU 0's `evtchn_upcall_pending`.
    pub fn upcall_pending(&self) -> &AtomicU8 {
        // SAFETY: a byte of the mapped vcpu_info, only accessed atomically.
        unsafe { AtomicU8::from_ptr(core::ptr::addr_of_mut!((*self.v).evtchn_upcall_pending)) }
    }
    /// vCPU 0's `evtchn_upcall_mask` (1 = event delivery masked).
    pub fn upcall_mask(&self) -> &AtomicU8 {
        // SAFETY: a byte of the mapped vcpu_info, only accessed atomically.
        unsafe { AtomicU8::from_ptr(core::ptr::addr_of_mut!((*self.v).evtchn_upcall_mask)) }
    }
}

/// Clear the pending bit of `port` atomically (never a plain word write).
pub fn clear_pending(port: u32) {
    if let Some(e) = events() {
        e.pending(port as usize / 64)
            .fetch_and(!(1u64 << (port % 64)), Ordering::AcqRel);
    }
}
