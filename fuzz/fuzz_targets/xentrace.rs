//! xentrace files are copies of Xen's trace buffers, which other domains' activity fills
//! and which may be cut short or overflow: any bytes must decode without a panic, every
//! item must lie inside the input, offsets must only grow, and what the items cover
//! (records and skipped bytes) can never exceed the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xp_core::xentrace::{event::decode, Item, Records};

fuzz_target!(|data: &[u8]| {
    let mut last = 0;
    let mut covered = 0;
    for it in Records::new(data) {
        let (offset, bytes) = match it {
            Item::Rec(r) => {
                let _ = decode(&r);
                assert!(r.extra.len() <= 28 && r.extra.len() % 4 == 0);
                (r.offset, 4 + r.tsc.map_or(0, |_| 8) + r.extra.len())
            }
            Item::Skip(s) => (s.offset, s.bytes),
        };
        assert!(offset >= last && offset + bytes <= data.len());
        last = offset;
        covered += bytes;
    }
    assert!(covered <= data.len());
});
