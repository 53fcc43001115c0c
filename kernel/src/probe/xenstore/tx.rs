//! Transactions: a commit publishes, an abort discards, a write by someone
//! else in between makes the commit fail with EAGAIN, and the retry helper
//! starts over until it commits.

use super::common::{answer, check_answer, check_signal, Ans, Assumed};
use super::identify::ask;
use super::BASE;
use crate::drv::xenstore::{Client, XsErr};
use crate::probe::Ctx;
use alloc::format;
use alloc::vec::Vec;
use xp_core::xs::fingerprint::Signal;
use xp_core::xs::XsError;

fn sub(leaf: &[u8]) -> Vec<u8> {
    let mut p = BASE.to_vec();
    p.push(b'/');
    p.extend_from_slice(leaf);
    p
}

pub fn transactions(ctx: &mut Ctx<'_>, c: &mut Client, imp: Assumed) -> Result<(), XsErr> {
    commit_and_abort(ctx, c)?;
    conflict(ctx, c)?;
    retry(ctx, c)?;
    let unknown = ask(c, Signal::UnknownTransaction)?;
    check_signal(
        ctx,
        imp,
        "transaction_end_unknown_id",
        Signal::UnknownTransaction,
        unknown,
    );
    Ok(())
}

fn commit_and_abort(ctx: &mut Ctx<'_>, c: &mut Client) -> Result<(), XsErr> {
    let (a, b) = (sub(b"ta"), sub(b"tb"));
    let tx = c.transaction_start()?;
    c.write(tx, &a, b"in tx")?;
    let inside = c.read(tx, &a)?;
    let outside = answer(c.read(0, &a))?;
    c.transaction_end(tx, true)?;
    let after = c.read(0, &a)?;
    let ok = inside == b"in tx" && outside == Some(XsError::Enoent) && after == b"in tx";
    ctx.check(
        "transaction_commit",
        ok,
        "in tx inside, ENOENT outside, in tx after commit",
        format_args!(
            "inside {}, outside {}, after {}",
            inside.escape_ascii(),
            Ans(outside),
            after.escape_ascii()
        ),
    );
    let tx = c.transaction_start()?;
    c.write(tx, &b, b"discard me")?;
    c.transaction_end(tx, false)?;
    let gone = answer(c.read(0, &b))?;
    check_answer(
        ctx,
        "transaction_abort_discards",
        Some(XsError::Enoent),
        gone,
    );
    Ok(())
}

fn conflict(ctx: &mut Ctx<'_>, c: &mut Client) -> Result<(), XsErr> {
    let n = sub(b"tc");
    c.write(0, &n, b"a")?;
    let tx = c.transaction_start()?;
    c.read(tx, &n)?;
    c.write(0, &n, b"b")?;
    c.write(tx, &n, b"c")?;
    let end = answer(c.transaction_end(tx, true))?;
    let value = c.read(0, &n)?;
    let ok = end == Some(XsError::Eagain) && value == b"b";
    ctx.check(
        "transaction_conflict_eagain",
        ok,
        "EAGAIN, the other write stays (b)",
        format_args!("{}, value {}", Ans(end), value.escape_ascii()),
    );
    Ok(())
}

/// The helper retries after EAGAIN: the body's first run is spoiled by a write from
/// outside the transaction, the second commits.
fn retry(ctx: &mut Ctx<'_>, c: &mut Client) -> Result<(), XsErr> {
    let n = sub(b"tr");
    c.write(0, &n, b"0")?;
    let mut runs = 0;
    let out = c.transaction(5, |c, tx| {
        runs += 1;
        let v = c.read(tx, &n)?;
        if runs == 1 {
            c.write(0, &n, b"spoiler")?;
        }
        let mut next = v;
        next.push(b'+');
        c.write(tx, &n, &next)
    });
    let value = c.read(0, &n)?;
    let ok = matches!(out, Ok(o) if o.attempts == 2) && value == b"spoiler+";
    ctx.check(
        "transaction_retry_on_eagain",
        ok,
        "committed on attempt 2 with the outside write kept",
        format_args!(
            "{}, value {}",
            match out {
                Ok(o) => format!("committed on attempt {}", o.attempts),
                Err(e) => format!("{e}"),
            },
            value.escape_ascii()
        ),
    );
    Ok(())
}
