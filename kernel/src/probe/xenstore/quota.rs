//! Quotas (transactions, watches, nodes: fill each until the daemon says
//! no, report how many and the error), and the message types a domU may
//! not or cannot use: types >= 22, removed and unknown ones, privileged
//! ones, CONTROL.

use super::common::{accepted_then, answer, check_impl, check_impl_by, check_signal, Ans, Assumed};
use super::identify::ask;
use super::BASE;
use crate::drv::xenstore::{Client, XsErr};
use crate::probe::Ctx;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use xp_core::xs::fingerprint::{Impl, Signal};
use xp_core::xs::{MsgType, Part, XsError};

/// Documented quota: C xenstored 4.17, oxenstored 4.17 (oxenstored.conf).
fn quota(s: Signal, i: Impl) -> u32 {
    match (s, i) {
        (Signal::TransactionQuota, _) => 10,
        (Signal::WatchQuota, Impl::C) => 128,
        (Signal::WatchQuota, Impl::Ocaml) => 100,
        _ => 1000,
    }
}

/// Checks a filled quota: `n` accepted, then `err`. Both daemons accept one more than the
/// configured number of transactions and watches (their checks are off by one); the node
/// quota counts the nodes the domain already owns.
fn check_quota(
    ctx: &mut Ctx<'_>,
    imp: Assumed,
    name: &str,
    s: Signal,
    n: u32,
    err: Option<XsError>,
) {
    let q = |i: Impl| quota(s, i);
    let expected = |i: Impl| match s {
        Signal::NodeQuota => format!(
            "at most {} accepted (the quota counts the domain's own nodes too), then {}",
            q(i),
            Ans(s.expected(i))
        ),
        _ => format!(
            "{} or {} accepted (the quota or one more), then {}",
            q(i),
            q(i) + 1,
            Ans(s.expected(i))
        ),
    };
    let count_ok = |i: Impl| match s {
        Signal::NodeQuota => n <= q(i) && n + 100 > q(i),
        _ => n == q(i) || n == q(i) + 1,
    };
    let ok = |i: Impl| count_ok(i) && err == s.expected(i);
    check_impl_by(
        ctx,
        imp,
        name,
        expected,
        ok,
        accepted_then(u64::from(n), err),
    );
}

pub fn quotas(ctx: &mut Ctx<'_>, c: &mut Client, imp: Assumed) -> Result<(), XsErr> {
    let mut txs = Vec::new();
    let err = loop {
        match answer(c.transaction_start().map(|t| txs.push(t)))? {
            None if txs.len() < 64 => continue,
            e => break e,
        }
    };
    for t in &txs {
        c.transaction_end(*t, false)?;
    }
    check_quota(
        ctx,
        imp,
        "quota_transactions",
        Signal::TransactionQuota,
        txs.len() as u32,
        err,
    );
    let (n, err) = fill_watches(c)?;
    check_quota(ctx, imp, "quota_watches", Signal::WatchQuota, n, err);
    let (n, err) = fill_nodes(c)?;
    check_quota(ctx, imp, "quota_nodes", Signal::NodeQuota, n, err);
    Ok(())
}

fn fill_watches(c: &mut Client) -> Result<(u32, Option<XsError>), XsErr> {
    let mut n = 0;
    let err = loop {
        let p = format!("{}/wq{n}", core::str::from_utf8(BASE).unwrap_or(""));
        match answer(c.watch(p.as_bytes(), b"quota"))? {
            None if n < 300 => n += 1,
            e => break e,
        }
    };
    c.reset_watches()?;
    c.watches.flush();
    Ok((n, err))
}

/// Creates nodes (25 per parent, so no child list grows big) until refused; counts
/// parents too. Removes them all.
fn fill_nodes(c: &mut Client) -> Result<(u32, Option<XsError>), XsErr> {
    let base = format!("{}/nq", core::str::from_utf8(BASE).unwrap_or(""));
    c.write(0, base.as_bytes(), b"")?;
    let mut made = 1;
    let err = 'fill: loop {
        for parent in 0.. {
            for j in 0..25 {
                let p = format!("{base}/p{parent}/n{j}");
                match answer(c.write(0, p.as_bytes(), b""))? {
                    None => made += if j == 0 { 2 } else { 1 },
                    e => break 'fill e,
                }
                if made > 1200 {
                    break 'fill None;
                }
            }
        }
    };
    c.rm(0, base.as_bytes())?;
    Ok((made, err))
}

fn raw(c: &mut Client, ty: u32, parts: &[Part<'_>]) -> Result<Option<XsError>, XsErr> {
    let id = c.send_raw(MsgType(ty), 0, parts)?;
    answer(c.finish(id))
}

/// A well-formed payload for each type asked (so only the type decides the answer).
fn payload(ty: u32) -> &'static [Part<'static>] {
    match ty {
        8 => &[Part::Num(5), Part::Num(1), Part::Num(1)],
        9 | 17 | 18 => &[Part::Num(0)],
        19 => &[Part::Num(5), Part::Num(6)],
        23..=26 => &[Part::Str(b"")],
        _ => &[Part::Str(b"x")],
    }
}

/// Every answer of a list of types, as text.
fn answers(c: &mut Client, types: &[u32]) -> Result<String, XsErr> {
    let mut out = Vec::new();
    for &t in types {
        out.push(format!("{t}: {}", Ans(raw(c, t, payload(t))?)));
    }
    Ok(out.join(", "))
}

pub fn message_types(ctx: &mut Ctx<'_>, c: &mut Client, imp: Assumed) -> Result<(), XsErr> {
    let part = ask(c, Signal::DirectoryPart)?;
    check_signal(ctx, imp, "directory_part", Signal::DirectoryPart, part);
    if part.is_none() {
        let mut by_parts = c.directory_by_parts(0, BASE)?;
        let mut whole = c.directory(0, BASE)?;
        by_parts.sort();
        whole.sort();
        ctx.check(
            "directory_part_equals_directory",
            by_parts == whole,
            format_args!("{} names", whole.len()),
            format_args!("{} names", by_parts.len()),
        );
    }
    let newer = answers(c, &[23, 24, 25, 26])?;
    let all_enosys = |_| String::from("23: ENOSYS, 24: ENOSYS, 25: ENOSYS, 26: ENOSYS");
    check_impl(ctx, imp, "types_23_to_26", all_enosys, newer);
    let invalid = answers(c, &[20, 27, 0xffff])?;
    check_impl(
        ctx,
        imp,
        "removed_and_unknown_types",
        |_| String::from("20: ENOSYS, 27: ENOSYS, 65535: ENOSYS"),
        invalid,
    );
    let privileged = answers(c, &[8, 9, 17, 18, 19])?;
    let want = "8: EACCES, 9: EACCES, 17: EACCES, 18: EACCES, 19: EACCES";
    check_impl(
        ctx,
        imp,
        "privileged_types_eacces",
        |_| String::from(want),
        privileged,
    );
    let control = ask(c, Signal::ControlFromDomU)?;
    check_signal(
        ctx,
        imp,
        "control_from_domu",
        Signal::ControlFromDomU,
        control,
    );
    let features = c.page().server_features();
    check_impl(
        ctx,
        imp,
        "server_features",
        |i| if i == Impl::C { 0 } else { 1 },
        features,
    );
    Ok(())
}
