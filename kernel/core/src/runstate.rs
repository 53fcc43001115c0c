//! Runstate snapshots: per-state times of a vCPU, as Xen's runstate area reports them.
//!
//! Xen adds to `time[state]` only when the vCPU leaves `state`; the time
//! spent in the current state so far is `now - state_entry_time`.
//! Deltas and steal are [`crate::stall::RunstateTimes`]'s job.

use crate::shmem::SharedMem;
use crate::stall::RunstateTimes;
use crate::xen::vcpu::{VcpuRunstateInfo, XEN_RUNSTATE_UPDATE};
use core::mem::offset_of;

/// One consistent copy of the runstate area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub state: i32,
    /// System time (ns) the current state was entered (update flag removed).
    pub state_entry_time: u64,
    /// Accumulated ns in running, runnable, blocked, offline.
    pub time: [u64; 4],
}

impl Snapshot {
    /// Per-state totals as of system time `now`, counting the current state's open stretch.
    pub fn totals_at(&self, now: u64) -> RunstateTimes {
        let mut t = self.time;
        if let Some(slot) = usize::try_from(self.state).ok().and_then(|s| t.get_mut(s)) {
            *slot = slot.saturating_add(now.saturating_sub(self.state_entry_time));
        }
        RunstateTimes::from_xen(t)
    }
}

/// Reads the runstate area (`struct vcpu_runstate_info`) at `off` of `mem`, which Xen
/// rewrites on every context switch: `state_entry_time` without XEN_RUNSTATE_UPDATE, then the
/// body, then `state_entry_time` again, equal (Acquire loads order the three). Without the
/// update flag (an old Xen) a changed entry time is still what catches a rewrite. Tries at
/// most `max_tries` times: `None` if Xen never settled (an error, not a hang).
pub fn read<M: SharedMem>(mem: &M, off: usize, max_tries: u32) -> Option<Snapshot> {
    let entry = off + offset_of!(VcpuRunstateInfo, state_entry_time);
    let time = off + offset_of!(VcpuRunstateInfo, time);
    for _ in 0..max_tries {
        let t1 = mem.load64(entry);
        if t1 & XEN_RUNSTATE_UPDATE != 0 {
            core::hint::spin_loop();
            continue;
        }
        let state = mem.load32(off + offset_of!(VcpuRunstateInfo, state)) as i32;
        let time = core::array::from_fn(|i| mem.load64(time + 8 * i));
        if mem.load64(entry) == t1 {
            return Some(Snapshot {
                state,
                state_entry_time: t1,
                time,
            });
        }
    }
    None
}

/// Sum of the four states (equals the elapsed time for a delta).
pub fn total(t: &RunstateTimes) -> u64 {
    [t.running_ns, t.runnable_ns, t.blocked_ns, t.offline_ns]
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shmem::fake::CellPage;
    use core::cell::Cell;

    /// Xen rewriting the area between the guest's loads: before load number `at`, the area at
    /// `off` gets `state_entry_time` (with or without the update flag) and running time.
    struct Racing<'p> {
        page: &'p CellPage,
        loads: Cell<u32>,
        writes: &'p [(u32, u64, u64)],
    }

    impl Racing<'_> {
        fn tick(&self) {
            let n = self.loads.get();
            self.loads.set(n + 1);
            for &(_, entry, run) in self.writes.iter().filter(|w| w.0 == n) {
                self.page.store64(64 + 8, entry);
                self.page.store64(64 + 16, run);
            }
        }
    }

    impl SharedMem for Racing<'_> {
        fn load8(&self, off: usize) -> u8 {
            self.tick();
            self.page.load8(off)
        }
        fn store8(&self, off: usize, v: u8) {
            self.page.store8(off, v)
        }
        fn load16(&self, off: usize) -> u16 {
            self.tick();
            self.page.load16(off)
        }
        fn store16(&self, off: usize, v: u16) {
            self.page.store16(off, v)
        }
        fn load32(&self, off: usize) -> u32 {
            self.tick();
            self.page.load32(off)
        }
        fn store32(&self, off: usize, v: u32) {
            self.page.store32(off, v)
        }
        fn load64(&self, off: usize) -> u64 {
            self.tick();
            self.page.load64(off)
        }
        fn store64(&self, off: usize, v: u64) {
            self.page.store64(off, v)
        }
        fn or8(&self, off: usize, bits: u8) {
            self.page.or8(off, bits)
        }
        fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
            self.page.fetch_and8(off, mask)
        }
        fn cas32(&self, off: usize, old: u32, new: u32) -> Result<u32, u32> {
            self.page.cas32(off, old, new)
        }
        fn swap32(&self, off: usize, v: u32) -> u32 {
            self.page.swap32(off, v)
        }
        fn fetch_or32(&self, off: usize, bits: u32) -> u32 {
            self.page.fetch_or32(off, bits)
        }
        fn fetch_and32(&self, off: usize, mask: u32) -> u32 {
            self.page.fetch_and32(off, mask)
        }
        fn fence(&self) {}
        fn read(&self, off: usize, out: &mut [u8]) {
            self.page.read(off, out)
        }
        fn write(&self, off: usize, data: &[u8]) {
            self.page.write(off, data)
        }
    }

    fn area(page: &CellPage, state: u32, entry: u64, time: [u64; 4]) {
        page.store32(64, state);
        page.store64(64 + 8, entry);
        (0..4).for_each(|i| page.store64(64 + 16 + 8 * i, time[i]));
    }

    #[test]
    fn read_returns_the_area_at_its_offset() {
        let page = CellPage::default();
        area(&page, 2, 1_000, [10, 20, 30, 40]);
        let want = Snapshot {
            state: 2,
            state_entry_time: 1_000,
            time: [10, 20, 30, 40],
        };
        assert_eq!(read(&page, 64, 1), Some(want));
    }

    #[test]
    fn read_waits_out_an_update_and_a_rewrite() {
        let page = CellPage::default();
        area(&page, 0, 1_000 | XEN_RUNSTATE_UPDATE, [5, 0, 0, 0]);
        // Try 1 sees the flag; before try 2's body Xen finishes (entry 2000, run 7) and
        // rewrites again (3000, 9) before try 2's second entry load; try 3 is clean.
        let writes = [(1, 2_000, 7), (6, 3_000, 9)];
        let r = Racing {
            page: &page,
            loads: Cell::new(0),
            writes: &writes,
        };
        let got = read(&r, 64, 3).expect("settled on the third try");
        assert_eq!((got.state_entry_time, got.time[0]), (3_000, 9));
    }

    #[test]
    fn read_gives_up_when_xen_never_settles() {
        let page = CellPage::default();
        area(&page, 1, 5 | XEN_RUNSTATE_UPDATE, [0; 4]);
        assert_eq!(read(&page, 64, 100), None);
        assert_eq!(read(&page, 64, 0), None);
    }
    use proptest::prelude::*;

    #[test]
    fn open_stretch_counts_for_current_state() {
        let s = Snapshot {
            state: 2,
            state_entry_time: 1_000,
            time: [10, 20, 30, 40],
        };
        assert_eq!(
            s.totals_at(1_500),
            RunstateTimes::from_xen([10, 20, 530, 40])
        );
        assert_eq!(s.totals_at(500), RunstateTimes::from_xen([10, 20, 30, 40]));
        let bad = Snapshot { state: 9, ..s };
        assert_eq!(
            bad.totals_at(5_000),
            RunstateTimes::from_xen([10, 20, 30, 40])
        );
    }

    #[test]
    fn delta_adds_up_to_elapsed() {
        let a = Snapshot {
            state: 0,
            state_entry_time: 0,
            time: [0; 4],
        };
        let b = Snapshot {
            state: 0,
            state_entry_time: 900,
            time: [300, 500, 0, 100],
        };
        let d = b.totals_at(1_000).since(&a.totals_at(0));
        assert_eq!(d, RunstateTimes::from_xen([400, 500, 0, 100]));
        assert_eq!(total(&d), 1_000);
        assert_eq!(d.steal_ns(), 600);
    }

    proptest! {
        /// Moving time forward in one state adds exactly the elapsed time to the total.
        #[test]
        fn totals_add_up(state in 0i32..4, entry in 0u64..1_000_000, extra in 0u64..1_000_000, t in proptest::array::uniform4(0u64..1_000_000)) {
            let s = Snapshot { state, state_entry_time: entry, time: t };
            prop_assert_eq!(total(&s.totals_at(entry + extra)), t.iter().sum::<u64>() + extra);
        }
    }
}
