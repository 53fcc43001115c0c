//! Fixed-capacity software timer queue for a singleshot-timer driver.
//!
//! Xen gives each vCPU one singleshot timer (`VCPUOP_set_singleshot_timer`).
//! The time driver multiplexes its software timers over it: it keeps them in
//! a [`TimerQueue`], programs the hardware timer for [`TimerQueue::earliest`],
//! and on `VIRQ_TIMER` runs [`TimerQueue::pop_expired`] with the current
//! system time, then re-programs for the new earliest deadline.
//!
//! Entries expire in deadline order; equal deadlines expire in insertion
//! order. Storage is an array kept sorted latest-first, so the earliest entry
//! is at the end: `earliest` and each pop are O(1), insert/cancel O(N).

/// One queued timer: fires when system time reaches `deadline_ns`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    /// Absolute Xen system time (ns) at which the timer expires.
    pub deadline_ns: u64,
    /// Caller-chosen identifier, unique within the queue.
    pub id: u32,
}

/// Why [`TimerQueue::insert`] refused an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerQueueError {
    /// All `N` slots are in use.
    Full,
    /// A timer with this id is already queued (cancel it first to re-arm).
    DuplicateId,
}

/// At most `N` pending timers, without allocation.
#[derive(Clone, Debug)]
pub struct TimerQueue<const N: usize> {
    /// `slots[..len]` sorted by deadline, latest first; among equal deadlines
    /// the most recently inserted comes first (so it pops last).
    slots: [Timer; N],
    len: usize,
}

impl<const N: usize> Default for TimerQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TimerQueue<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            slots: [Timer {
                deadline_ns: 0,
                id: 0,
            }; N],
            len: 0,
        }
    }

    /// The queued entries, latest first.
    fn active(&self) -> &[Timer] {
        self.slots.get(..self.len).unwrap_or(&[])
    }

    /// Number of queued timers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum number of queued timers.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Queues timer `id` for `deadline_ns`.
    pub fn insert(&mut self, deadline_ns: u64, id: u32) -> Result<(), TimerQueueError> {
        if self.active().iter().any(|t| t.id == id) {
            return Err(TimerQueueError::DuplicateId);
        }
        // Before every entry with an equal or earlier deadline: equal ones
        // inserted earlier stay nearer the end and so pop first.
        let pos = self
            .active()
            .partition_point(|t| t.deadline_ns > deadline_ns);
        let Some(window) = self.slots.get_mut(pos..=self.len) else {
            return Err(TimerQueueError::Full);
        };
        window.rotate_right(1);
        if let Some(slot) = window.first_mut() {
            *slot = Timer { deadline_ns, id };
        }
        self.len += 1;
        Ok(())
    }

    /// Removes timer `id`; returns it, or `None` if it was not queued.
    pub fn cancel(&mut self, id: u32) -> Option<Timer> {
        let pos = self.active().iter().position(|t| t.id == id)?;
        let window = self.slots.get_mut(pos..self.len)?;
        let removed = *window.first()?;
        window.rotate_left(1);
        self.len -= 1;
        Some(removed)
    }

    /// The next timer to expire (what the hardware timer should be set to).
    pub fn earliest(&self) -> Option<Timer> {
        self.active().last().copied()
    }

    /// Removes and returns the earliest timer if it expired by `now_ns`.
    pub fn pop_expired_one(&mut self, now_ns: u64) -> Option<Timer> {
        let next = self.earliest().filter(|t| t.deadline_ns <= now_ns)?;
        self.len -= 1;
        Some(next)
    }

    /// Iterator removing, in expiry order, every timer with
    /// `deadline_ns <= now_ns`. Lazy: entries not iterated stay queued.
    pub fn pop_expired(&mut self, now_ns: u64) -> PopExpired<'_, N> {
        PopExpired {
            queue: self,
            now_ns,
        }
    }

    /// Queued timers in expiry order, without removing them.
    pub fn iter(&self) -> impl Iterator<Item = Timer> + '_ {
        self.active().iter().rev().copied()
    }
}

/// Iterator returned by [`TimerQueue::pop_expired`].
#[derive(Debug)]
pub struct PopExpired<'a, const N: usize> {
    queue: &'a mut TimerQueue<N>,
    now_ns: u64,
}

impl<const N: usize> Iterator for PopExpired<'_, N> {
    type Item = Timer;

    fn next(&mut self) -> Option<Timer> {
        self.queue.pop_expired_one(self.now_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids<const N: usize>(q: &mut TimerQueue<N>, now: u64) -> Vec<u32> {
        q.pop_expired(now).map(|t| t.id).collect()
    }

    #[test]
    fn pops_in_deadline_order() {
        let mut q = TimerQueue::<8>::new();
        for (d, id) in [(300, 3), (100, 1), (200, 2), (400, 4)] {
            q.insert(d, id).unwrap();
        }
        assert_eq!(
            q.earliest(),
            Some(Timer {
                deadline_ns: 100,
                id: 1
            })
        );
        assert_eq!(ids(&mut q, 99), Vec::<u32>::new());
        assert_eq!(ids(&mut q, 300), [1, 2, 3]);
        assert_eq!(q.len(), 1);
        assert_eq!(ids(&mut q, u64::MAX), [4]);
        assert!(q.is_empty() && q.earliest().is_none());
    }

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut q = TimerQueue::<8>::new();
        for id in [5, 3, 9, 1] {
            q.insert(50, id).unwrap();
        }
        q.insert(10, 7).unwrap();
        assert_eq!(ids(&mut q, 50), [7, 5, 3, 9, 1]);
    }

    #[test]
    fn full_and_duplicate_are_errors() {
        let mut q = TimerQueue::<2>::new();
        q.insert(1, 1).unwrap();
        assert_eq!(q.insert(5, 1), Err(TimerQueueError::DuplicateId));
        q.insert(2, 2).unwrap();
        assert_eq!(q.insert(3, 3), Err(TimerQueueError::Full));
        assert_eq!(q.capacity(), 2);
        let mut z = TimerQueue::<0>::new();
        assert_eq!(z.insert(0, 0), Err(TimerQueueError::Full));
        assert_eq!(
            (z.earliest(), z.cancel(0), z.pop_expired_one(u64::MAX)),
            (None, None, None)
        );
    }

    #[test]
    fn cancel_removes_only_that_timer() {
        let mut q = TimerQueue::<4>::new();
        for (d, id) in [(10, 1), (20, 2), (30, 3)] {
            q.insert(d, id).unwrap();
        }
        assert_eq!(
            q.cancel(2),
            Some(Timer {
                deadline_ns: 20,
                id: 2
            })
        );
        assert_eq!(q.cancel(2), None);
        q.insert(5, 2).unwrap(); // re-arm after cancel
        assert_eq!(q.iter().map(|t| t.id).collect::<Vec<_>>(), [2, 1, 3]);
        assert_eq!(q.cancel(3).map(|t| t.id), Some(3));
        assert_eq!(ids(&mut q, 100), [2, 1]);
    }

    #[test]
    fn pop_expired_is_lazy() {
        let mut q = TimerQueue::<4>::new();
        q.insert(1, 1).unwrap();
        q.insert(2, 2).unwrap();
        assert_eq!(q.pop_expired(10).next().map(|t| t.id), Some(1));
        assert_eq!(q.earliest().map(|t| t.id), Some(2));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64, u32),
        Cancel(u32),
        Pop(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..50, 0u32..12).prop_map(|(d, id)| Op::Insert(d, id)),
            (0u32..12).prop_map(Op::Cancel),
            (0u64..60).prop_map(Op::Pop),
        ]
    }

    /// Reference model: a plain list with insertion sequence numbers.
    #[derive(Default)]
    struct Model {
        entries: Vec<(u64, u64, u32)>, // (deadline, seq, id)
        seq: u64,
    }

    impl Model {
        fn insert(&mut self, cap: usize, d: u64, id: u32) -> Result<(), TimerQueueError> {
            if self.entries.iter().any(|e| e.2 == id) {
                return Err(TimerQueueError::DuplicateId);
            }
            if self.entries.len() >= cap {
                return Err(TimerQueueError::Full);
            }
            self.seq += 1;
            self.entries.push((d, self.seq, id));
            Ok(())
        }
        fn pop(&mut self, now: u64) -> Vec<u32> {
            self.entries.sort_unstable();
            let n = self.entries.iter().take_while(|e| e.0 <= now).count();
            self.entries.drain(..n).map(|e| e.2).collect()
        }
    }

    proptest! {
        #[test]
        fn matches_model(ops in prop::collection::vec(op(), 0..80)) {
            let mut q = TimerQueue::<6>::new();
            let mut m = Model::default();
            for op in ops {
                match op {
                    Op::Insert(d, id) => prop_assert_eq!(q.insert(d, id), m.insert(6, d, id)),
                    Op::Cancel(id) => {
                        let want = m.entries.iter().position(|e| e.2 == id).map(|i| m.entries.remove(i));
                        prop_assert_eq!(q.cancel(id).map(|t| (t.deadline_ns, t.id)), want.map(|e| (e.0, e.2)));
                    }
                    Op::Pop(now) => prop_assert_eq!(ids(&mut q, now), m.pop(now)),
                }
                prop_assert_eq!(q.len(), m.entries.len());
                let earliest = m.entries.iter().min().map(|e| (e.0, e.2));
                prop_assert_eq!(q.earliest().map(|t| (t.deadline_ns, t.id)), earliest);
            }
        }
    }
}
