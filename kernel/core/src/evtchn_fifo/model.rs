//! A model of Xen's side of the FIFO ABI (event_fifo.c's set_pending, set_link,
//! unmask), for tests. Words live in a Vec whose indexing panics on a port
//! without a word, so a passing test also shows the guest code stayed in range.
//! Xen's operations are atomic here; the guest's accesses are interleaved with
//! them through [`View`]'s script.

use super::{EventWord as W, FifoShared};
use crate::xen::event_channel::{EVTCHN_FIFO_LINK_MASK, EVTCHN_FIFO_MAX_QUEUES as Q};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};

#[derive(Default)]
pub struct Cb {
    pub ready: Cell<u32>,
    pub head: [Cell<u32>; Q],
}

#[derive(Clone, Copy, Default)]
pub struct Port {
    pub vcpu: usize,
    pub priority: usize,
    /// Xen's `fifo_lastq`: the queue the port was last linked on.
    lastq: (usize, usize),
}

pub struct Xen {
    pub words: Vec<Cell<u32>>,
    pub cbs: Vec<Cb>,
    pub ports: RefCell<Vec<Port>>,
    tails: RefCell<Vec<[u32; Q]>>,
    /// vcpu_mark_events_pending calls per vCPU.
    pub upcalls: Vec<Cell<u32>>,
    /// Ports raised since their handler last ran (for the no-lost-event checks).
    pub owed: RefCell<BTreeSet<u32>>,
}

impl Xen {
    /// `nr_ports` words, all masked (as the guest initialises pages), `vcpus` control blocks.
    pub fn new(nr_ports: u32, vcpus: usize) -> Self {
        let port = Port {
            vcpu: 0,
            priority: 7,
            lastq: (0, 7),
        };
        Xen {
            words: (0..nr_ports).map(|_| Cell::new(W::INITIAL.0)).collect(),
            cbs: (0..vcpus).map(|_| Cb::default()).collect(),
            ports: RefCell::new(vec![port; nr_ports as usize]),
            tails: RefCell::new(vec![[0; Q]; vcpus]),
            upcalls: (0..vcpus).map(|_| Cell::new(0)).collect(),
            owed: RefCell::new(BTreeSet::new()),
        }
    }
    pub fn word(&self, port: u32) -> W {
        W(self.words[port as usize].get())
    }
    fn test_and_set(&self, port: u32, bit: u32) -> bool {
        let w = &self.words[port as usize];
        let old = w.get();
        w.set(old | bit);
        old & bit != 0
    }
    /// Xen's `try_set_link`: link `port` behind `tail` iff `tail` is still LINKED.
    fn set_link(&self, tail: u32, port: u32) -> bool {
        let w = &self.words[tail as usize];
        let old = w.get();
        if old & W::LINKED == 0 {
            return false;
        }
        w.set((old & !(W::BUSY | EVTCHN_FIFO_LINK_MASK)) | port);
        true
    }
    /// `evtchn_fifo_set_pending` for `port` on its vCPU and priority.
    pub fn raise(&self, port: u32) {
        let p = self.ports.borrow()[port as usize];
        let (v, q) = (p.vcpu, p.priority);
        self.owed.borrow_mut().insert(port);
        self.test_and_set(port, W::PENDING);
        let mut linked = true;
        if !self.word(port).masked() && !self.test_and_set(port, W::LINKED) {
            let mut tails = self.tails.borrow_mut();
            let (ov, oq) = p.lastq;
            if tails[ov][oq] == port {
                tails[ov][oq] = 0;
            }
            self.ports.borrow_mut()[port as usize].lastq = (v, q);
            let tail = tails[v][q];
            linked = tail != 0 && self.set_link(tail, port);
            if !linked {
                self.cbs[v].head[q].set(port);
            }
            tails[v][q] = port;
        }
        let ready = &self.cbs[v].ready;
        if !linked && ready.get() & (1 << q) == 0 {
            ready.set(ready.get() | 1 << q);
            self.upcalls[v].set(self.upcalls[v].get() + 1);
        }
    }
    /// EVTCHNOP_unmask (`evtchn_fifo_unmask`): clear MASKED, relink if pending.
    pub fn unmask(&self, port: u32) {
        let w = &self.words[port as usize];
        w.set(w.get() & !W::MASKED);
        if self.word(port).pending() {
            self.raise(port);
        }
    }
    pub fn set_priority(&self, port: u32, priority: usize) {
        self.ports.borrow_mut()[port as usize].priority = priority;
    }
    pub fn bind(&self, port: u32, vcpu: usize, priority: usize) {
        let mut ports = self.ports.borrow_mut();
        ports[port as usize].vcpu = vcpu;
        ports[port as usize].priority = priority;
    }
}

/// What Xen (or another vCPU) does between two of the guest's accesses.
#[derive(Clone, Copy, Debug)]
pub enum Act {
    Nothing,
    Raise(u32),
    ClearBusy(u32),
}

/// Actions run one per guest access, shared by every vCPU's [`View`].
pub type Script = RefCell<VecDeque<Act>>;

/// One vCPU's view of the model, running the next scripted action before
/// each of the guest's accesses.
pub struct View<'a> {
    pub xen: &'a Xen,
    pub vcpu: usize,
    pub script: &'a Script,
}

impl<'a> View<'a> {
    pub fn new(xen: &'a Xen, vcpu: usize, script: &'a Script) -> Self {
        View { xen, vcpu, script }
    }
    fn step(&self) {
        let next = self.script.borrow_mut().pop_front();
        match next {
            Some(Act::Raise(port)) => self.xen.raise(port),
            Some(Act::ClearBusy(port)) => {
                let w = &self.xen.words[port as usize];
                w.set(w.get() & !W::BUSY);
            }
            Some(Act::Nothing) | None => {}
        }
    }
}

impl FifoShared for View<'_> {
    fn load(&self, port: u32) -> u32 {
        self.step();
        self.xen.words[port as usize].get()
    }
    fn compare_exchange(&self, port: u32, old: u32, new: u32) -> Result<u32, u32> {
        self.step();
        let w = &self.xen.words[port as usize];
        let cur = w.get();
        if cur != old {
            return Err(cur);
        }
        w.set(new);
        Ok(cur)
    }
    fn fetch_or(&self, port: u32, bits: u32) -> u32 {
        self.step();
        let w = &self.xen.words[port as usize];
        w.replace(w.get() | bits)
    }
    fn fetch_and(&self, port: u32, bits: u32) -> u32 {
        self.step();
        let w = &self.xen.words[port as usize];
        w.replace(w.get() & bits)
    }
    fn swap_ready(&self) -> u32 {
        self.step();
        self.xen.cbs[self.vcpu].ready.replace(0)
    }
    fn head(&self, priority: usize) -> u32 {
        self.step();
        self.xen.cbs[self.vcpu].head[priority].get()
    }
}
