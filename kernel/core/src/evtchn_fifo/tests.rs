use super::model::{Act, Script, View, Xen};
use super::*;
use proptest::prelude::*;

const ALL: u32 = u32::MAX;

/// Scans `v` with an unlimited budget; checks every handler call against the model.
fn drain(v: &View<'_>) -> (Vec<u32>, ScanReport) {
    let mut c = Consumer::new();
    drain_with(v, &mut c, ALL)
}

fn drain_with(v: &View<'_>, c: &mut Consumer, budget: u32) -> (Vec<u32>, ScanReport) {
    let mut got = Vec::new();
    let nr = v.xen.words.len() as u32;
    let r = scan(v, c, nr, budget, &mut |p| {
        let w = v.xen.word(p);
        assert!(!w.pending() && !w.masked(), "port {p} delivered as {w:?}");
        assert_eq!(v.xen.ports.borrow()[p as usize].vcpu, v.vcpu, "port {p}");
        assert!(v.xen.owed.borrow_mut().remove(&p), "port {p}: not raised");
        got.push(p);
    });
    (got, r)
}

/// Guest unmask, with the hypercall applied to the model when asked for.
fn guest_unmask(v: &View<'_>, port: u32) {
    if unmask(v, port) == Unmask::Hypercall {
        v.xen.unmask(port);
    }
}

fn setup(nr: u32, vcpus: usize, bound: &[(u32, usize, usize)]) -> (Xen, Script) {
    let x = Xen::new(nr, vcpus);
    let script = Script::default();
    for &(p, vcpu, prio) in bound {
        x.bind(p, vcpu, prio);
        guest_unmask(&View::new(&x, vcpu, &script), p);
    }
    (x, script)
}

#[test]
fn one_event_delivered_once_and_unlinked() {
    let (x, s) = setup(1024, 1, &[(5, 0, 7)]);
    let v = View::new(&x, 0, &s);
    x.raise(5);
    assert_eq!((x.upcalls[0].get(), x.cbs[0].ready.get()), (1, 1 << 7));
    assert_eq!(x.cbs[0].head[7].get(), 5);
    let (got, r) = drain(&v);
    assert_eq!((got, r.delivered, r.more), (vec![5], 1, false));
    assert!(!x.word(5).linked() && !x.word(5).pending());
    assert_eq!(drain(&v).0, Vec::<u32>::new());
    x.raise(5); // the tail was taken: Xen starts the queue anew
    assert_eq!((x.upcalls[0].get(), drain(&v).0), (2, vec![5]));
}

#[test]
fn priorities_first_then_fifo_within_a_queue() {
    let bound = [(10, 0, 7), (11, 0, 7), (12, 0, 0), (13, 0, 15), (14, 0, 0)];
    let (x, s) = setup(1024, 1, &bound);
    [10, 11, 12, 13, 14, 10].iter().for_each(|&p| x.raise(p));
    assert_eq!(drain(&View::new(&x, 0, &s)).0, [12, 14, 10, 11, 13]);
}

#[test]
fn higher_priority_raised_mid_scan_goes_next() {
    let (x, s) = setup(1024, 1, &[(20, 0, 9), (21, 0, 9), (22, 0, 9), (30, 0, 1)]);
    [20, 21, 22].iter().for_each(|&p| x.raise(p));
    // Accesses: swap_ready, head, load 20, cmpxchg 20, load 20, cmpxchg 20 (PENDING), swap_ready.
    s.borrow_mut().extend([Act::Nothing; 3].iter().copied());
    s.borrow_mut().push_back(Act::Raise(30));
    assert_eq!(drain(&View::new(&x, 0, &s)).0, [20, 30, 21, 22]);
}

#[test]
fn masked_event_is_held_and_delivered_on_unmask() {
    let (x, s) = setup(1024, 1, &[(40, 0, 7)]);
    let v = View::new(&x, 0, &s);
    assert!(!mask(&v, 40) && mask(&v, 40));
    x.raise(40);
    assert!(x.word(40).pending() && !x.word(40).linked());
    assert_eq!((x.upcalls[0].get(), drain(&v).0), (0, vec![]));
    assert!(is_pending(&v, 40), "a masked event stays pending");
    assert_eq!(unmask(&v, 40), Unmask::Hypercall);
    assert!(
        x.word(40).masked(),
        "a pending port is left to Xen to unmask"
    );
    x.unmask(40);
    assert_eq!(drain(&v).0, [40]);
}

#[test]
fn unmask_of_a_quiet_port_waits_for_busy() {
    let (x, s) = setup(1024, 1, &[]);
    x.words[50].set(EventWord::MASKED | EventWord::BUSY);
    s.borrow_mut()
        .extend([Act::Nothing, Act::Nothing, Act::Nothing, Act::ClearBusy(50)]);
    assert_eq!(unmask(&View::new(&x, 0, &s), 50), Unmask::Done);
    assert_eq!(x.word(50), EventWord(0));
    assert!(s.borrow().is_empty(), "it spun until BUSY cleared");
    x.words[51].set(EventWord::MASKED | EventWord::BUSY);
    assert_eq!(unmask(&View::new(&x, 0, &s), 51), Unmask::Hypercall);
}

#[test]
fn events_are_queued_per_vcpu() {
    let (x, s) = setup(1024, 2, &[(60, 0, 7), (61, 1, 7), (62, 1, 3), (63, 0, 7)]);
    [60, 61, 62, 63].iter().for_each(|&p| x.raise(p));
    assert_eq!((x.upcalls[0].get(), x.upcalls[1].get()), (1, 2));
    assert_eq!(drain(&View::new(&x, 0, &s)).0, [60, 63]);
    assert_eq!(drain(&View::new(&x, 1, &s)).0, [62, 61]);
}

#[test]
fn tail_taken_while_xen_links_behind_it() {
    for at in 0..8 {
        let (x, s) = setup(1024, 1, &[(70, 0, 7), (71, 0, 7)]);
        x.raise(70);
        s.borrow_mut().extend(vec![Act::Nothing; at]);
        s.borrow_mut().push_back(Act::Raise(71));
        let (got, _) = drain(&View::new(&x, 0, &s));
        let mut rest = drain(&View::new(&x, 0, &s)).0;
        assert_eq!(
            [got, std::mem::take(&mut rest)].concat(),
            [70, 71],
            "raise at {at}"
        );
        assert!(x.owed.borrow().is_empty());
    }
}

#[test]
fn bad_head_and_link_are_reported_not_followed() {
    let (x, s) = setup(1024, 1, &[(80, 0, 2)]);
    let v = View::new(&x, 0, &s);
    x.cbs[0].ready.set(1 << 4 | 1 << 20);
    x.cbs[0].head[4].set(5000);
    let (got, r) = drain(&v);
    let bad = BadLink {
        priority: 4,
        from: 0,
        port: 5000,
        nr_ports: 1024,
    };
    assert_eq!((got, r.bad_links, r.first_bad), (vec![], 1, Some(bad)));
    x.raise(80);
    x.words[80].set(x.words[80].get() | 4000);
    let (got, r) = drain(&v);
    assert_eq!(
        (got, r.first_bad.map(|b| (b.from, b.port))),
        (vec![80], Some((80, 4000)))
    );
    let text = std::format!("{}", r.first_bad.unwrap());
    assert_eq!(
        text,
        "LINK of port 80 (priority 2) names port 4000, beyond the 1024 ports with event words"
    );
}

#[test]
fn budget_bounds_a_scan_and_the_next_one_resumes() {
    let bound: Vec<_> = (100..110).map(|p| (p, 0, 7)).collect();
    let (x, s) = setup(1024, 1, &bound);
    (100..110).for_each(|p| x.raise(p));
    let (v, mut c) = (View::new(&x, 0, &s), Consumer::new());
    let (got, r) = drain_with(&v, &mut c, 3);
    assert_eq!(
        (got, r.steps, r.more, c.has_work()),
        (vec![100, 101, 102], 3, true, true)
    );
    assert_eq!(
        drain_with(&v, &mut c, ALL).0,
        (103..110).collect::<Vec<_>>()
    );
    assert!(!c.has_work());
}

#[test]
fn helpers() {
    assert_eq!(
        (pages_for(0), pages_for(1023), pages_for(1024)),
        (Some(1), Some(1), Some(2))
    );
    assert_eq!(
        (pages_for(4096), pages_for(131071), pages_for(131072)),
        (Some(5), Some(128), None)
    );
    assert_eq!((ports_in(4), ports_in(u32::MAX)), (4096, u32::MAX));
    assert!(valid_priority(0) && valid_priority(15) && !valid_priority(16));
    let w = EventWord(EventWord::PENDING | EventWord::LINKED | 0x1_2345);
    assert!(w.pending() && w.linked() && !w.masked() && !w.busy());
    assert_eq!(w.link(), 0x1_2345);
    assert_eq!(EventWord::INITIAL.0, 1 << 30);
}

/// A guest action between Xen's.
#[derive(Clone, Copy, Debug)]
enum Op {
    Scan(usize, u32),
    Mask(u32),
    Unmask(u32),
    SetPriority(u32, usize),
    ClearPending(u32),
}

const N: u32 = 24;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 1..8u32).prop_map(|(v, b)| Op::Scan(v, b)),
        1 => (1..N).prop_map(Op::Mask),
        2 => (1..N).prop_map(Op::Unmask),
        1 => (1..N, 0..16usize).prop_map(|(p, q)| Op::SetPriority(p, q)),
        1 => (1..N).prop_map(Op::ClearPending),
    ]
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![2 => Just(Act::Nothing), 1 => (1..N).prop_map(Act::Raise)]
}

fn apply(x: &Xen, s: &Script, cs: &mut [Consumer; 2], op: Op) {
    let port_view = |p: u32| View::new(x, x.ports.borrow()[p as usize].vcpu, s);
    match op {
        Op::Scan(v, budget) => drop(drain_with(&View::new(x, v, s), &mut cs[v], budget)),
        Op::Mask(p) => {
            mask(&port_view(p), p);
        }
        Op::Unmask(p) => guest_unmask(&port_view(p), p),
        Op::SetPriority(p, q) => x.set_priority(p, q),
        Op::ClearPending(p) => {
            // What a guest does before SCHEDOP_poll: the event is consumed, not owed.
            clear_pending(&port_view(p), p);
            x.owed.borrow_mut().remove(&p);
        }
    }
}

proptest! {
    /// No interleaving: one scan delivers each raised unmasked port once, by
    /// priority, in raise order within a priority; masked ones stay pending.
    #[test]
    fn delivery_order_is_priority_then_fifo(
        prio in prop::collection::vec(0..16usize, N as usize),
        masked in prop::collection::btree_set(1..N, 0..6),
        raises in prop::collection::vec(1..N, 0..60),
    ) {
        let bound: Vec<_> = (1..N).map(|p| (p, 0, prio[p as usize])).collect();
        let (x, s) = setup(N, 1, &bound);
        let v = View::new(&x, 0, &s);
        for &p in &masked { mask(&v, p); }
        raises.iter().for_each(|&p| x.raise(p));
        let mut want: Vec<u32> = Vec::new();
        for &p in &raises {
            if !masked.contains(&p) && !want.contains(&p) { want.push(p); }
        }
        want.sort_by_key(|&p| prio[p as usize]); // stable: FIFO within a priority
        prop_assert_eq!(drain(&v).0, want);
        for &p in &raises {
            prop_assert_eq!(x.word(p).pending(), masked.contains(&p));
        }
    }

    /// Xen raises ports between any two guest accesses while the guest scans
    /// (small budgets), masks, unmasks, re-prioritises and clears: no event is
    /// lost (after unmasking everything and draining, nothing is owed or
    /// pending or linked), none is delivered that was not raised, masked, or
    /// on another vCPU's queue (checked in every handler call).
    #[test]
    fn no_event_lost_or_invented_under_interleaving(
        vcpu in prop::collection::vec(0..2usize, N as usize),
        prio in prop::collection::vec(0..16usize, N as usize),
        ops in prop::collection::vec(op(), 0..40),
        acts in prop::collection::vec(act(), 0..200),
    ) {
        let bound: Vec<_> = (1..N).map(|p| (p, vcpu[p as usize], prio[p as usize])).collect();
        let (x, s) = setup(N, 2, &bound);
        s.borrow_mut().extend(acts);
        let mut cs = [Consumer::new(); 2];
        ops.iter().for_each(|&op| apply(&x, &s, &mut cs, op));
        (1..N).for_each(|p| apply(&x, &s, &mut cs, Op::Unmask(p)));
        while let Some(a) = s.borrow_mut().pop_front() {
            if let Act::Raise(p) = a { x.raise(p) }
        }
        for v in [0, 1, 0, 1] {
            drain_with(&View::new(&x, v, &s), &mut cs[v], ALL);
        }
        prop_assert!(x.owed.borrow().is_empty(), "lost: {:?}", x.owed.borrow());
        for p in 1..N {
            prop_assert!(!x.word(p).pending() && !x.word(p).linked(), "port {}: {:?}", p, x.word(p));
        }
    }

    /// Whatever Xen (or anyone) leaves in the words and control block: no
    /// access beyond the array (the model's Vec panics), at most `budget`
    /// steps, only in-range, unmasked ports delivered, each once per scan
    /// step at most.
    #[test]
    fn hostile_shared_memory_is_bounded(
        words in prop::collection::vec(any::<u32>(), 1..80),
        heads in prop::collection::vec(any::<u32>(), 16),
        ready in any::<u32>(),
        budget in 0..300u32,
    ) {
        let x = Xen::new(words.len() as u32, 1);
        words.iter().enumerate().for_each(|(i, &w)| x.words[i].set(w));
        heads.iter().enumerate().for_each(|(i, &h)| x.cbs[0].head[i].set(h));
        x.cbs[0].ready.set(ready);
        let (s, mut c) = (Script::default(), Consumer::new());
        let v = View::new(&x, 0, &s);
        let mut got = Vec::new();
        let r = scan(&v, &mut c, words.len() as u32, budget, &mut |p| got.push(p));
        prop_assert!(r.steps <= budget && r.delivered as usize == got.len());
        for p in got {
            prop_assert!(EventWord(words[p as usize]).pending() && !EventWord(words[p as usize]).masked());
            prop_assert!(!x.word(p).pending());
        }
    }
}
