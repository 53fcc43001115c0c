//! UTC time of day from the probe's wall-clock nanoseconds (no time-zone database needed).

/// `09:15:41.784` for nanoseconds since the Unix epoch.
pub fn hms_ms(ns: u64) -> String {
    let ms = (ns / 1_000_000) % 1000;
    format!("{}.{ms:03}", hms(ns / 1_000_000_000))
}

/// `09:15:41` for seconds since the Unix epoch.
pub fn hms(secs: u64) -> String {
    let s = secs % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `2026-11-21` for seconds since the Unix epoch (Howard Hinnant's civil_from_days).
pub fn date(secs: u64) -> String {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(951_782_400), "2000-02-29");
        // 1795252541 s: the lab's wall clock in a recorded run (2026-11-21 09:15:41 UTC).
        assert_eq!(super::date(1_795_252_541), "2026-11-21");
        assert_eq!(super::hms_ms(1_795_252_541_784_000_000), "09:15:41.784");
    }
}
