//! Host tests of the free-space check: df's output, the refusal's words, and the check on a
//! real directory of this machine.

use super::disk::{parse_df, preflight, shortage, Place};
use std::fs;

#[test]
fn parses_df_avail_output() {
    assert_eq!(parse_df("    Avail\n123456789\n").unwrap(), 123_456_789);
    let err = parse_df("Avail\n-\n").unwrap_err();
    assert!(
        format!("{err:#}").contains("where a byte count belongs"),
        "{err:#}"
    );
    assert!(parse_df("").is_err());
}

#[test]
fn refusal_names_place_free_and_need() {
    assert_eq!(shortage(5 << 30, 4 << 30, "target"), None);
    let msg = shortage(721 << 20, 3 << 30, "target (/w/target)").unwrap();
    assert!(msg.contains("0.7 GiB free"), "{msg}");
    assert!(msg.contains("about 3.0 GiB"), "{msg}");
    assert!(
        msg.contains("/w/target") && msg.contains("XENPROBE_CACHE"),
        "{msg}"
    );
}

#[test]
fn preflight_counts_what_is_already_there() {
    let dir = std::env::temp_dir().join(format!("xp-disk-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("held"), vec![1u8; 64 << 10]).unwrap();
    // Already holds what it will hold: nothing left to write, whatever the disk.
    let done = Place {
        what: "cache",
        path: dir.clone(),
        full: 32 << 10,
    };
    assert_eq!(done.need(), 0);
    preflight(&[done]).unwrap();
    // What it holds (the 64 KiB file, the directory's own blocks) is taken off what is left.
    let part = Place {
        what: "cache",
        path: dir.clone(),
        full: 1 << 20,
    };
    let need = part.need();
    let (lo, hi) = ((1 << 20) - (128 << 10), (1 << 20) - (64 << 10));
    assert!((lo..=hi).contains(&need), "{need}");
    // No disk has an exbibyte free: refused, naming the place (a child not yet made).
    let path = dir.join("not-yet/made");
    let huge = Place {
        what: "lab cache",
        path,
        full: 1 << 60,
    };
    let err = format!("{:#}", preflight(&[huge]).unwrap_err());
    assert!(
        err.contains("lab cache (") && err.contains("not-yet/made"),
        "{err}"
    );
    fs::remove_dir_all(&dir).unwrap();
}
