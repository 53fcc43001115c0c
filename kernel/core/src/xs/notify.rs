//! When to signal the xenstore event channel. xenstore-ring.txt says the
//! channel "must be signalled" whenever the ring is updated; the probe also
//! breaks that rule on purpose to measure how each daemon copes:
//!
//! - [`ProducerMode::Eager`]: notify after every request-index update (the
//!   spec's rule).
//! - [`ProducerMode::Lazy`]: never notify after writing requests; the daemon
//!   must find them by itself (oxenstored's periodic ring scan).
//! - [`ProducerMode::Delayed`]: notify once `delay_ns` after the first
//!   un-notified request-index update.
//! - `lazy_consumer`: do not notify after consuming replies.
//!
//! Pure state: the caller supplies the time (any monotonic nanosecond clock)
//! and does the actual hypercall when a method returns `true`.

/// Notification behaviour after writing requests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProducerMode {
    Eager,
    Lazy,
    Delayed { delay_ns: u64 },
}

/// The notification policy and the state of a pending delayed notify.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NotifyPolicy {
    pub producer: ProducerMode,
    /// Whether to skip the notify after consuming replies.
    pub lazy_consumer: bool,
    /// When a delayed notify falls due, if one is armed.
    deadline: Option<u64>,
}

impl NotifyPolicy {
    /// Eager producer, notifying consumer: what the spec asks for.
    pub const SPEC: Self = Self::new(ProducerMode::Eager, false);

    pub const fn new(producer: ProducerMode, lazy_consumer: bool) -> Self {
        Self {
            producer,
            lazy_consumer,
            deadline: None,
        }
    }

    /// Call after a request write that moved the index by `written` bytes;
    /// `true` means notify now. A delayed policy arms its deadline on the
    /// first such write and keeps it for later ones.
    pub fn after_produce(&mut self, now_ns: u64, written: usize) -> bool {
        if written == 0 {
            return false;
        }
        match self.producer {
            ProducerMode::Eager => true,
            ProducerMode::Lazy => false,
            ProducerMode::Delayed { delay_ns } => {
                if self.deadline.is_none() {
                    self.deadline = Some(now_ns.saturating_add(delay_ns));
                }
                self.poll(now_ns)
            }
        }
    }

    /// `true` once when an armed delayed notify is due; disarms it.
    pub fn poll(&mut self, now_ns: u64) -> bool {
        match self.deadline {
            Some(d) if now_ns >= d => {
                self.deadline = None;
                true
            }
            _ => false,
        }
    }

    /// When the armed delayed notify is due, for the caller's timer.
    pub fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// Call after consuming `consumed` reply bytes; `true` means notify now.
    pub fn after_consume(&self, consumed: usize) -> bool {
        consumed > 0 && !self.lazy_consumer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eager_notifies_each_update_only() {
        let mut p = NotifyPolicy::SPEC;
        assert!(p.after_produce(0, 5));
        assert!(p.after_produce(1, 1));
        assert!(!p.after_produce(2, 0));
        assert!(!p.poll(u64::MAX));
        assert_eq!(p.deadline(), None);
    }

    #[test]
    fn lazy_never_notifies_requests() {
        let mut p = NotifyPolicy::new(ProducerMode::Lazy, false);
        assert!(!p.after_produce(0, 100));
        assert!(!p.poll(u64::MAX));
        assert!(p.after_consume(3));
    }

    #[test]
    fn delayed_fires_once_after_first_write() {
        let mut p = NotifyPolicy::new(
            ProducerMode::Delayed {
                delay_ns: 5_000_000,
            },
            false,
        );
        assert!(!p.after_produce(1_000, 10));
        assert_eq!(p.deadline(), Some(5_001_000));
        // A later write does not push the deadline back.
        assert!(!p.after_produce(3_000_000, 10));
        assert_eq!(p.deadline(), Some(5_001_000));
        assert!(!p.poll(5_000_999));
        assert!(p.poll(5_001_000));
        assert!(!p.poll(9_000_000), "fires once");
        assert_eq!(p.deadline(), None);
    }

    #[test]
    fn delayed_zero_notifies_at_once_and_saturates() {
        let mut p = NotifyPolicy::new(ProducerMode::Delayed { delay_ns: 0 }, false);
        assert!(p.after_produce(7, 1));
        let mut p = NotifyPolicy::new(ProducerMode::Delayed { delay_ns: u64::MAX }, false);
        assert!(!p.after_produce(u64::MAX - 1, 1));
        assert_eq!(p.deadline(), Some(u64::MAX));
        assert!(!p.after_produce(0, 0));
    }

    #[test]
    fn lazy_consumer_skips_reply_notifies() {
        let p = NotifyPolicy::new(ProducerMode::Eager, true);
        assert!(!p.after_consume(10));
        assert!(!NotifyPolicy::SPEC.after_consume(0));
        assert!(NotifyPolicy::SPEC.after_consume(1));
    }
}
