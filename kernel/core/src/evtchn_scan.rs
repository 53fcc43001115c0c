//! Xen 2-level event channel dispatch, over an abstract view of the bitmaps.
//!
//! In the 2-level ABI (64-bit guest) shared_info holds 64 words of pending
//! bits and 64 words of mask bits (64 x 64 = 4096 ports), and each vCPU's
//! vcpu_info holds `evtchn_pending_sel`, one bit per pending word. Xen sets a
//! port's pending bit, and if the port is unmasked, the word's selector bit
//! and `evtchn_upcall_pending`, then upcalls the guest.
//!
//! [`scan`] follows Mini-OS's `do_hypervisor_callback` (which itself mirrors
//! Linux's): exchange the selector with 0, then for each selector bit take
//! `pending & !mask` of that word, and for each set bit clear the port's
//! pending bit atomically *before* running its handler (so an event raised
//! while the handler runs is delivered again, never lost). The word is
//! re-read after every port, as Mini-OS does, and the selector is re-taken
//! until it reads 0. The caller clears `evtchn_upcall_pending` before calling
//! `scan` (clear the master flag, then take the selector): an event that
//! arrives after that re-sets it and at worst causes one empty extra scan.
//!
//! [`unmask`] follows Mini-OS's `unmask_evtchn`: a port that became pending
//! while masked set no selector bit, so unmasking must re-check pending and
//! raise the selector and upcall flags itself, or that edge would be lost.

/// Bits in one pending/mask word (the 64-bit 2-level ABI).
pub const BITS_PER_WORD: u32 = 64;
/// Ports in the 64-bit 2-level ABI (`EVTCHN_2L_NR_CHANNELS`): 64 words x 64.
pub const NR_EVENT_CHANNELS: u32 = BITS_PER_WORD * BITS_PER_WORD;

/// Access to the event bitmaps of shared memory. Every method is one atomic
/// access (the implementation owns the memory ordering: Acquire on reads,
/// the `lock`-prefixed instructions on x86 for read-modify-writes).
pub trait EventWords {
    /// Atomically exchanges `vcpu_info.evtchn_pending_sel` with 0.
    fn swap_selector(&self) -> u64;
    /// `shared_info.evtchn_pending[word]` (`word` is always < 64).
    fn pending(&self, word: usize) -> u64;
    /// `shared_info.evtchn_mask[word]` (`word` is always < 64).
    fn mask(&self, word: usize) -> u64;
    /// Atomically clears `port`'s pending bit (`lock btr`, never a plain
    /// word write: Xen sets other bits of the word concurrently).
    fn clear_pending(&self, port: u32);
}

/// Word index of `port` in the pending/mask arrays.
pub fn port_word(port: u32) -> usize {
    (port / BITS_PER_WORD) as usize
}

/// Bit of `port` within its word.
pub fn port_bit(port: u32) -> u64 {
    1u64 << (port % BITS_PER_WORD)
}

/// Bits of `word` whose ports are below `nr_ports` (capped at 4096).
fn valid_bits(word: usize, nr_ports: u32) -> u64 {
    let first = (word as u64).saturating_mul(u64::from(BITS_PER_WORD));
    let limit = u64::from(nr_ports.min(NR_EVENT_CHANNELS));
    match limit.saturating_sub(first) {
        0 => 0,
        n if n >= 64 => u64::MAX,
        n => (1u64 << n) - 1,
    }
}

/// Delivers every pending, unmasked port below `nr_ports` to `handle`, once
/// per time Xen raised it, clearing its pending bit before the call. Ports at
/// or above `nr_ports` (or 4096) are left untouched, neither cleared nor
/// delivered; their selector bit is consumed, so they are not looked at again
/// until Xen signals their word anew. Returns when the selector reads 0.
/// Within a word the lowest port goes first, as in Mini-OS (a port that is
/// re-raised continuously can delay higher ports of its word).
pub fn scan<W: EventWords>(w: &W, nr_ports: u32, handle: &mut impl FnMut(u32)) {
    loop {
        let selector = w.swap_selector();
        if selector == 0 {
            return;
        }
        for word in set_bits(selector) {
            scan_word(w, word, valid_bits(word, nr_ports), handle);
        }
    }
}

/// Drains one word: lowest active port first, re-reading the word each time.
fn scan_word<W: EventWords>(w: &W, word: usize, valid: u64, handle: &mut impl FnMut(u32)) {
    loop {
        let active = w.pending(word) & !w.mask(word) & valid;
        if active == 0 {
            return;
        }
        let port = word as u32 * BITS_PER_WORD + active.trailing_zeros();
        // Clear first: an event raised while the handler runs sets the bit
        // again and is delivered on the next pass.
        w.clear_pending(port);
        handle(port);
    }
}

/// Indices of the set bits of `bits`, ascending.
fn set_bits(mut bits: u64) -> impl Iterator<Item = usize> {
    core::iter::from_fn(move || {
        let idx = bits.trailing_zeros();
        bits &= bits.wrapping_sub(1); // clears the lowest set bit; None at 0
        (idx < 64).then_some(idx as usize)
    })
}

/// The unmask rule in one line: after clearing a port's mask bit, a port
/// found pending must be re-signalled (selector bit + `evtchn_upcall_pending`)
/// because Xen did not signal it while it was masked.
pub fn unmask_needs_resend(pending_bit: bool) -> bool {
    pending_bit
}

/// The accesses [`unmask`] needs; each one atomic.
pub trait UnmaskWords {
    /// Atomically clears `port`'s mask bit.
    fn clear_mask(&self, port: u32);
    /// Reads `port`'s pending bit (after the mask bit is cleared).
    fn test_pending(&self, port: u32) -> bool;
    /// Atomically sets selector bit `word`, returning its previous value.
    fn test_and_set_selector(&self, word: usize) -> bool;
    /// Sets `vcpu_info.evtchn_upcall_pending` to 1.
    fn set_upcall_pending(&self);
    /// Reads `vcpu_info.evtchn_upcall_mask` (events disabled).
    fn upcall_masked(&self) -> bool;
}

/// What [`unmask`] did; the caller acts on `Resent { run_now: true }` by
/// running the upcall handler (Mini-OS's `force_evtchn_callback`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnmaskOutcome {
    /// Port >= 4096: nothing was touched.
    OutOfRange,
    /// Unmasked; the port was not pending.
    NotPending,
    /// Pending, but its selector bit was already set: a scan will see it.
    AlreadySignalled,
    /// Pending and re-signalled; `run_now` when upcalls are not masked.
    Resent {
        /// Whether the caller must run the upcall handler now.
        run_now: bool,
    },
}

/// Unmasks `port` without losing an edge: clear the mask bit, then (only
/// then) test pending; if pending and its selector bit was clear, set the
/// selector bit and `evtchn_upcall_pending`.
pub fn unmask<U: UnmaskWords>(u: &U, port: u32) -> UnmaskOutcome {
    if port >= NR_EVENT_CHANNELS {
        return UnmaskOutcome::OutOfRange;
    }
    u.clear_mask(port);
    if !unmask_needs_resend(u.test_pending(port)) {
        return UnmaskOutcome::NotPending;
    }
    if u.test_and_set_selector(port_word(port)) {
        return UnmaskOutcome::AlreadySignalled;
    }
    u.set_upcall_pending();
    UnmaskOutcome::Resent {
        run_now: !u.upcall_masked(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::{Cell, RefCell};

    /// In-memory shared_info + vcpu_info, with Xen's raise logic.
    struct Fake {
        sel: Cell<u64>,
        pending: RefCell<[u64; 64]>,
        mask: RefCell<[u64; 64]>,
        upcall_pending: Cell<bool>,
        upcall_mask: Cell<bool>,
        log: RefCell<Vec<&'static str>>,
    }

    impl Fake {
        fn new() -> Self {
            Fake {
                sel: Cell::new(0),
                pending: RefCell::new([0; 64]),
                mask: RefCell::new([0; 64]),
                upcall_pending: Cell::new(false),
                upcall_mask: Cell::new(false),
                log: RefCell::new(Vec::new()),
            }
        }
        fn is_pending(&self, port: u32) -> bool {
            self.pending.borrow()[port_word(port)] & port_bit(port) != 0
        }
        fn set_mask(&self, port: u32) {
            self.mask.borrow_mut()[port_word(port)] |= port_bit(port);
        }
        /// Xen's evtchn_2l_set_pending + vcpu_mark_events_pending.
        fn raise(&self, port: u32) {
            let (word, bit) = (port_word(port), port_bit(port));
            let already = self.pending.borrow()[word] & bit != 0;
            self.pending.borrow_mut()[word] |= bit;
            if !already && self.mask.borrow()[word] & bit == 0 && self.sel.get() & (1 << word) == 0
            {
                self.sel.set(self.sel.get() | 1 << word);
                self.upcall_pending.set(true);
            }
        }
    }

    impl EventWords for Fake {
        fn swap_selector(&self) -> u64 {
            self.sel.replace(0)
        }
        fn pending(&self, word: usize) -> u64 {
            self.pending.borrow()[word]
        }
        fn mask(&self, word: usize) -> u64 {
            self.mask.borrow()[word]
        }
        fn clear_pending(&self, port: u32) {
            self.pending.borrow_mut()[port_word(port)] &= !port_bit(port);
        }
    }

    impl UnmaskWords for Fake {
        fn clear_mask(&self, port: u32) {
            self.log.borrow_mut().push("clear_mask");
            self.mask.borrow_mut()[port_word(port)] &= !port_bit(port);
        }
        fn test_pending(&self, port: u32) -> bool {
            self.log.borrow_mut().push("test_pending");
            self.is_pending(port)
        }
        fn test_and_set_selector(&self, word: usize) -> bool {
            let old = self.sel.get();
            self.sel.set(old | 1 << word);
            old & 1 << word != 0
        }
        fn set_upcall_pending(&self) {
            self.upcall_pending.set(true);
        }
        fn upcall_masked(&self) -> bool {
            self.upcall_mask.get()
        }
    }

    fn delivered(f: &Fake, nr_ports: u32) -> Vec<u32> {
        let mut got = Vec::new();
        scan(f, nr_ports, &mut |p| {
            assert!(!f.is_pending(p), "port {p} still pending in its handler");
            got.push(p);
        });
        got
    }

    #[test]
    fn ports_delivered_once_across_words() {
        let f = Fake::new();
        let ports = [0, 1, 63, 64, 65, 200, 1000, 4095];
        ports.iter().for_each(|&p| f.raise(p));
        assert_eq!(delivered(&f, NR_EVENT_CHANNELS), ports);
        assert!(f.pending.borrow().iter().all(|&w| w == 0));
        assert_eq!(delivered(&f, NR_EVENT_CHANNELS), Vec::<u32>::new());
    }

    #[test]
    fn masked_ports_are_skipped_and_stay_pending() {
        let f = Fake::new();
        f.set_mask(5);
        f.raise(5);
        f.raise(6);
        f.pending.borrow_mut()[0] |= port_bit(7); // pending, selector set by 6
        f.set_mask(7);
        assert_eq!(delivered(&f, 4096), [6]);
        assert!(f.is_pending(5) && f.is_pending(7));
    }

    #[test]
    fn out_of_range_ports_are_ignored_not_cleared() {
        let f = Fake::new();
        for p in [3, 9, 10, 130] {
            f.raise(p);
        }
        assert_eq!(delivered(&f, 10), [3, 9]);
        assert!(f.is_pending(10) && f.is_pending(130));
        // Their selector bits were consumed: they are not seen again until
        // raised again, even by a scan with a larger limit.
        f.raise(4000);
        assert_eq!(delivered(&f, u32::MAX), [4000]);
        assert!(f.is_pending(10) && f.is_pending(130));
    }

    #[test]
    fn events_raised_by_handlers_are_delivered() {
        let f = Fake::new();
        f.raise(70);
        let mut got = Vec::new();
        scan(&f, 4096, &mut |p| {
            got.push(p);
            match p {
                70 => f.raise(2),                   // earlier word: outer loop
                2 => f.raise(71),                   // later word
                71 if got.len() < 4 => f.raise(71), // itself, once more
                _ => {}
            }
        });
        assert_eq!(got, [70, 2, 71, 71]);
    }

    #[test]
    fn unmask_resends_an_edge_raised_while_masked() {
        let f = Fake::new();
        f.set_mask(42);
        f.raise(42);
        f.upcall_pending.set(false);
        assert_eq!(delivered(&f, 4096), Vec::<u32>::new());
        assert_eq!(unmask(&f, 42), UnmaskOutcome::Resent { run_now: true });
        assert_eq!(*f.log.borrow(), ["clear_mask", "test_pending"]);
        assert!(f.upcall_pending.get());
        assert_eq!(delivered(&f, 4096), [42]);
    }

    #[test]
    fn unmask_outcomes() {
        let f = Fake::new();
        assert_eq!(unmask(&f, 4096), UnmaskOutcome::OutOfRange);
        assert_eq!(unmask(&f, 1), UnmaskOutcome::NotPending);
        assert!(!f.upcall_pending.get() && f.sel.get() == 0);
        f.raise(1);
        f.set_mask(2);
        f.raise(2);
        assert_eq!(unmask(&f, 2), UnmaskOutcome::AlreadySignalled);
        f.upcall_mask.set(true);
        f.set_mask(100);
        f.raise(100);
        assert_eq!(unmask(&f, 100), UnmaskOutcome::Resent { run_now: false });
        assert!(unmask_needs_resend(true) && !unmask_needs_resend(false));
    }

    #[test]
    fn helpers() {
        assert_eq!((port_word(0), port_bit(0)), (0, 1));
        assert_eq!((port_word(4095), port_bit(4095)), (63, 1 << 63));
        assert_eq!(valid_bits(0, 0), 0);
        assert_eq!(valid_bits(0, 3), 0b111);
        assert_eq!(valid_bits(1, 64), 0);
        assert_eq!(valid_bits(63, u32::MAX), u64::MAX);
        assert_eq!(
            set_bits(0x8000_0000_0000_0005).collect::<Vec<_>>(),
            [0, 2, 63]
        );
    }

    proptest! {
        #[test]
        fn delivers_exactly_the_active_ports(
            raised in prop::collection::btree_set(0u32..4096, 0..300),
            masked in prop::collection::btree_set(0u32..4096, 0..300),
            nr_ports in 0u32..5000,
        ) {
            let f = Fake::new();
            masked.iter().for_each(|&p| f.set_mask(p));
            raised.iter().for_each(|&p| f.raise(p));
            let want: Vec<u32> = raised.iter().copied()
                .filter(|p| !masked.contains(p) && *p < nr_ports).collect();
            prop_assert_eq!(delivered(&f, nr_ports), want.clone());
            for p in raised {
                prop_assert_eq!(f.is_pending(p), !want.contains(&p));
            }
        }
    }
}
