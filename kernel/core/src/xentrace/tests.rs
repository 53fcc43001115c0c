use super::event::{decode, DomVcpu, Event, Undecoded};
use super::*;
use crate::xen::trace::*;
use proptest::prelude::*;

/// A record as Xen writes it: header, TSC halves, data words.
pub fn rec(event: u32, tsc: Option<u64>, data: &[u32]) -> Vec<u8> {
    let mut h = event | (data.len() as u32) << TRACE_EXTRA_SHIFT;
    let mut out = Vec::new();
    if tsc.is_some() {
        h |= TRC_HD_CYCLE_FLAG;
    }
    out.extend(h.to_le_bytes());
    if let Some(t) = tsc {
        out.extend((t as u32).to_le_bytes());
        out.extend(((t >> 32) as u32).to_le_bytes());
    }
    data.iter().for_each(|w| out.extend(w.to_le_bytes()));
    out
}

/// A window as xentrace writes it: cpu_change record, then the records.
pub fn window(cpu: u32, recs: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = recs.concat();
    let mut out = Vec::new();
    out.extend(CPU_CHANGE_HEADER.to_le_bytes());
    out.extend(cpu.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn items(d: &[u8]) -> Vec<Item<'_>> {
    Records::new(d).collect()
}

const D1V0: DomVcpu = DomVcpu { dom: 1, vcpu: 0 };

#[test]
fn reads_windows_of_two_cpus_with_their_records() {
    let blocked = TRC_SCHED_RUNSTATE_CHANGE | 2 << 4; // running (0) to blocked (2)
    let mut f = window(
        1,
        &[
            rec(TRC_SCHED_BLOCK, Some(100), &[1, 0]),
            rec(blocked, Some(101), &[1 << 16]),
        ],
    );
    f.extend(window(
        0,
        &[rec(TRC_SCHED_WAKE, Some(0x1_0000_0002), &[1, 0])],
    ));
    let v = items(&f);
    assert_eq!(v.len(), 3);
    let Item::Rec(r) = v[1] else { panic!("{v:?}") };
    assert_eq!((r.cpu, r.tsc, r.offset), (1, Some(101), 12 + 20));
    assert_eq!(
        decode(&r),
        Ok(Event::Runstate {
            v: D1V0,
            old: 0,
            new: 2
        })
    );
    let Item::Rec(r) = v[2] else { panic!("{v:?}") };
    assert_eq!((r.cpu, r.tsc), (0, Some(0x1_0000_0002)));
    assert_eq!(decode(&r), Ok(Event::Wake { v: D1V0 }));
}

#[test]
fn decodes_planted_fault_and_hypercall_records() {
    let r = rec(TRC_SCHED_PLANTED_DEFER, Some(5), &[1, 0, 1, 1000, 300]);
    let f = window(
        0,
        &[
            r,
            rec(
                TRC_PV_HYPERCALL_V2,
                Some(6),
                &[24 | 1 << 20 | 1 << 22, 4, 0],
            ),
        ],
    );
    let v = items(&f);
    let Item::Rec(a) = v[0] else { panic!() };
    assert_eq!(
        decode(&a),
        Ok(Event::PlantedDefer {
            v: D1V0,
            kind: 1,
            ms: 1000,
            nth: 300
        })
    );
    let Item::Rec(b) = v[1] else { panic!() };
    assert_eq!(
        decode(&b),
        Ok(Event::Hypercall {
            op: 24,
            arg0: Some(4),
            arg1: Some(0)
        })
    );
}

#[test]
fn unknown_events_and_wrong_lengths_are_named() {
    let f = window(
        0,
        &[
            rec(0x0008_1001, Some(1), &[1]),
            rec(TRC_SCHED_WAKE, Some(2), &[1]),
        ],
    );
    let v = items(&f);
    let Item::Rec(a) = v[0] else { panic!() };
    assert_eq!(decode(&a), Err(Undecoded::Unknown { event: 0x0008_1001 }));
    let Item::Rec(b) = v[1] else { panic!() };
    let want = Undecoded::WrongLength {
        event: TRC_SCHED_WAKE,
        words: 1,
        expected: 2,
    };
    assert_eq!(decode(&b), Err(want));
}

#[test]
fn lost_records_are_xens_overflow_note() {
    let f = window(2, &[rec(TRC_LOST_RECORDS, Some(9), &[17, 0, 0x55, 0x1])]);
    let Item::Rec(r) = items(&f)[0] else { panic!() };
    assert_eq!(
        decode(&r),
        Ok(Event::LostRecords {
            lost: 17,
            first_tsc: 0x1_0000_0055
        })
    );
}

#[test]
fn a_truncated_file_says_so_and_keeps_whole_records() {
    let f = window(
        3,
        &[
            rec(TRC_SCHED_WAKE, Some(1), &[1, 0]),
            rec(TRC_SCHED_BLOCK, Some(2), &[1, 0]),
        ],
    );
    let cut = &f[..f.len() - 3];
    let v = items(cut);
    assert!(matches!(
        v[0],
        Item::Skip(Skip {
            reason: SkipReason::TruncatedWindow { cpu: 3, missing: 3 },
            ..
        })
    ));
    assert!(matches!(v[1], Item::Rec(_)));
    assert!(matches!(
        v[2],
        Item::Skip(Skip {
            reason: SkipReason::TruncatedRecord { cpu: 3, .. },
            ..
        })
    ));
    assert_eq!(v.len(), 3);
    let v = items(&f[..7]);
    assert!(matches!(
        v[..],
        [Item::Skip(Skip {
            reason: SkipReason::TruncatedHeader,
            bytes: 7,
            ..
        })]
    ));
}

#[test]
fn garbage_between_windows_is_skipped_up_to_the_next_window() {
    let mut f = vec![0xaa; 8];
    f.extend(window(0, &[rec(TRC_SCHED_WAKE, Some(1), &[1, 0])]));
    let v = items(&f);
    assert!(matches!(
        v[0],
        Item::Skip(Skip {
            offset: 0,
            bytes: 8,
            reason: SkipReason::NotAWindow { found: 0xaaaa_aaaa }
        })
    ));
    assert!(matches!(v[1], Item::Rec(Rec { cpu: 0, .. })));
}

/// Bytes the items cover (records and skips; window headers not counted).
fn accounted(d: &[u8]) -> usize {
    Records::new(d)
        .map(|it| match it {
            Item::Rec(r) => 4 + r.tsc.map_or(0, |_| 8) + r.extra.len(),
            Item::Skip(s) => s.bytes,
        })
        .sum()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_stay_in_bounds(d in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut last = None;
        for it in Records::new(&d) {
            let off = match it { Item::Rec(r) => { let _ = decode(&r); r.offset }, Item::Skip(s) => s.offset };
            prop_assert!(off <= d.len());
            prop_assert!(last.is_none_or(|l| off >= l));
            last = Some(off);
        }
        prop_assert!(accounted(&d) <= d.len());
    }

    #[test]
    fn well_formed_files_decode_every_record(cpus in proptest::collection::vec((0u32..4, 0usize..6), 1..5), cut in 0usize..4) {
        let mut f = Vec::new();
        let mut n = 0;
        for (cpu, k) in &cpus {
            let recs: Vec<Vec<u8>> = (0..*k).map(|i| rec(TRC_SCHED_WAKE, Some(i as u64), &[1, 0])).collect();
            n += k;
            f.extend(window(*cpu, &recs));
        }
        let got = Records::new(&f).filter(|i| matches!(i, Item::Rec(_))).count();
        prop_assert_eq!(got, n);
        let cut = f.len() - cut.min(f.len());
        let skips = Records::new(&f[..cut]).filter(|i| matches!(i, Item::Skip(_))).count();
        prop_assert!(cut == f.len() || skips > 0);
    }
}
