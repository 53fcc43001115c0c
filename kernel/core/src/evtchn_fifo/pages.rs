//! The FIFO ABI's memory as shared pages: [`FifoShared`] over the one
//! shared-memory access trait, the way the kernel (its `SharedPage`) and the
//! host tests and fuzz target (a fake page) both see it.

use super::FifoShared;
use crate::shmem::SharedMem;
use crate::xen::event_channel::{EvtchnFifoControlBlock, EVTCHN_FIFO_EVENT_WORDS_PER_PAGE};
use core::mem::offset_of;

/// One vCPU's FIFO memory: event-array page `i` is `array(i)` (the caller only
/// asks for ports below the pages it added), and this vCPU's control block
/// is at byte `offset` of `control`.
pub struct FifoPages<M, A> {
    pub array: A,
    pub control: M,
    pub offset: usize,
}

/// Byte offset of `port`'s event word in its array page.
fn word_off(port: u32) -> usize {
    (port % EVTCHN_FIFO_EVENT_WORDS_PER_PAGE) as usize * 4
}

impl<M: SharedMem, A: Fn(u32) -> M> FifoPages<M, A> {
    fn page(&self, port: u32) -> M {
        (self.array)(port / EVTCHN_FIFO_EVENT_WORDS_PER_PAGE)
    }
}

impl<M: SharedMem, A: Fn(u32) -> M> FifoShared for FifoPages<M, A> {
    fn load(&self, port: u32) -> u32 {
        self.page(port).load32(word_off(port))
    }
    fn compare_exchange(&self, port: u32, old: u32, new: u32) -> Result<u32, u32> {
        self.page(port).cas32(word_off(port), old, new)
    }
    fn fetch_or(&self, port: u32, bits: u32) -> u32 {
        self.page(port).fetch_or32(word_off(port), bits)
    }
    fn fetch_and(&self, port: u32, bits: u32) -> u32 {
        self.page(port).fetch_and32(word_off(port), bits)
    }
    fn swap_ready(&self) -> u32 {
        let off = self.offset + offset_of!(EvtchnFifoControlBlock, ready);
        self.control.swap32(off, 0)
    }
    fn head(&self, priority: usize) -> u32 {
        let off = self.offset + offset_of!(EvtchnFifoControlBlock, head) + 4 * priority;
        self.control.load32(off)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{scan, Consumer, EventWord};
    use super::*;
    use crate::shmem::fake::CellPage;

    #[test]
    fn words_and_control_block_at_their_abi_offsets() {
        let array = [CellPage::default(), CellPage::default()];
        let cb = CellPage::default();
        let f = FifoPages {
            array: |i: u32| &array[i as usize],
            control: &cb,
            offset: 64,
        };
        // Port 1030 (page 1, word 6) raised at priority 3 as Xen does it.
        array[1].store32(24, EventWord::PENDING | EventWord::LINKED);
        cb.store32(64 + 8 + 4 * 3, 1030);
        cb.store32(64, 1 << 3);
        let mut got = Vec::new();
        let r = scan(&f, &mut Consumer::new(), 2048, 10, &mut |p| got.push(p));
        assert_eq!((got, r.delivered), (vec![1030], 1));
        assert_eq!((array[1].load32(24), cb.load32(64)), (0, 0));
    }
}
