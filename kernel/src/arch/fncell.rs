//! An atomic slot for a `fn(u32)` (the event-channel handlers): a function pointer stored
//! as an address can only be turned back into one by unsafe code, which lives here.

use core::sync::atomic::{AtomicUsize, Ordering};

/// Empty, or one `fn(u32)`, stored and loaded atomically.
pub struct FnCell(AtomicUsize);

impl FnCell {
    pub const fn new() -> Self {
        FnCell(AtomicUsize::new(0))
    }

    pub fn set(&self, f: fn(u32)) {
        self.0.store(f as usize, Ordering::Release);
    }

    pub fn clear(&self) {
        self.0.store(0, Ordering::Release);
    }

    pub fn get(&self) -> Option<fn(u32)> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            // SAFETY: only `set` stores a non-zero value, and it stores a `fn(u32)` (function
            // pointers are never null).
            h => Some(unsafe { core::mem::transmute::<usize, fn(u32)>(h) }),
        }
    }
}
