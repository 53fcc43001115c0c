use super::*;
use proptest::prelude::*;

#[test]
fn layouts() {
    // 16-byte payloads: 32-byte slots, 126 fit in 4032 bytes -> 64 slots.
    assert_eq!(Layout::for_payload(16), Some(Layout { slot: 32, size: 64 }));
    assert_eq!(Layout::for_payload(0), Some(Layout { slot: 32, size: 64 }));
    assert_eq!(Layout::for_payload(64), Some(Layout { slot: 80, size: 32 }));
    assert_eq!(
        Layout::for_payload(MAX_PAYLOAD),
        Some(Layout {
            slot: 1024,
            size: 2
        })
    );
    assert_eq!(Layout::for_payload(MAX_PAYLOAD + 1), None);
    assert_eq!(Layout::from_peer(33), Err(PeerError::SlotSize(33)));
    assert_eq!(Layout::from_peer(0), Err(PeerError::SlotSize(0)));
    assert_eq!(Layout::from_peer(2048), Err(PeerError::SlotSize(2048)));
    let l = Layout::for_payload(64).unwrap();
    assert_eq!(l.offset(33), 64 + 80);
    assert_eq!(l.capacity(), 64);
}

#[test]
fn lengths_and_messages() {
    let l = Layout::for_payload(64).unwrap();
    assert!(check_len(l, 1, 64).is_ok());
    let e = check_len(l, 7, 65).unwrap_err();
    assert_eq!(e.check(), "peer_message_len_valid");
    assert_eq!(
        e.to_string(),
        "message 7 claims 65 bytes, its slot holds 64"
    );
    let r = crate::ring::RingError {
        what: "rsp_prod",
        prod: 100,
        cons: 0,
        size: 32,
    };
    assert!(PeerError::from(r).to_string().contains("rsp_prod"));
    assert_eq!(
        PeerError::NoNotify {
            pending: 3,
            waited_ns: 5_000
        }
        .check(),
        "peer_notifies"
    );
}

#[test]
fn partial_words_ignore_bytes_past_len() {
    let w = pattern_word(9, 1);
    assert!(word_ok(9, 12, 1, w));
    assert!(word_ok(9, 12, 1, w ^ 0xff00_0000_0000_0000)); // byte 15 is past len 12
    assert!(!word_ok(9, 12, 1, w ^ 0xff)); // byte 8 is inside
    assert_eq!(words(0), 0);
    assert_eq!(words(9), 2);
}

proptest! {
    #[test]
    fn any_peer_slot_size_stays_in_page(slot in any::<u32>(), idx in any::<u32>(), len in any::<u32>()) {
        if let Ok(l) = Layout::from_peer(slot) {
            prop_assert!(l.size >= 2 && l.size.is_power_of_two());
            let off = l.offset(idx);
            prop_assert!(off + l.slot as usize <= 4096);
            if check_len(l, idx, len).is_ok() {
                prop_assert!(off + MSG_PAYLOAD + words(len) as usize * 8 <= 4096);
            }
        }
    }

    #[test]
    fn every_payload_size_fits(payload in 0u32..=MAX_PAYLOAD) {
        let l = Layout::for_payload(payload).unwrap();
        prop_assert!(check_len(l, 0, payload).is_ok());
        prop_assert!(words(payload) * 8 <= l.capacity());
    }

    #[test]
    fn pattern_words_match_bytes(seq in any::<u32>(), w in 0u32..128) {
        let bytes = pattern_word(seq, w).to_le_bytes();
        for (b, &v) in bytes.iter().enumerate() {
            prop_assert_eq!(v, pattern(seq, w * 8 + b as u32));
        }
        prop_assert!(word_ok(seq, w * 8 + 8, w, pattern_word(seq, w)));
    }
}
