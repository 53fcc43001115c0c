//! Watches: a new watch fires once at once, with the path as registered
//! (relative or absolute) and its token; a change below fires it again; each
//! event reaches the watcher of its token only; UNWATCH and RESET_WATCHES
//! stop them; special paths (@releaseDomain) are accepted.

use super::common::{answer, check_answer, Ans};
use super::BASE;
use crate::drv::xenstore::{Client, XsErr};
use crate::probe::Ctx;
use crate::time::now_ns;
use alloc::format;
use alloc::vec::Vec;
use xp_core::xs::XsError;

/// How long an expected event may take, and how long we listen for unexpected ones.
const EVENT_NS: u64 = 1_000_000_000;
const QUIET_NS: u64 = 300_000_000;

fn sub(leaf: &str) -> Vec<u8> {
    let mut p = BASE.to_vec();
    p.extend(format!("/{leaf}").bytes());
    p
}

/// The paths of all events `token` gets within `ns`.
fn events(c: &mut Client, token: &[u8], ns: u64) -> Vec<Vec<u8>> {
    c.wait_for(now_ns() + ns, |_| false);
    core::iter::from_fn(|| c.watches.take(token))
        .map(|e| e.path)
        .collect()
}

/// Shows event paths compactly.
struct Paths<'a>(&'a [Vec<u8>]);
impl core::fmt::Display for Paths<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[")?;
        for (i, p) in self.0.iter().enumerate() {
            write!(f, "{}{}", if i > 0 { ", " } else { "" }, p.escape_ascii())?;
        }
        f.write_str("]")
    }
}

fn expect_events(ctx: &mut Ctx<'_>, name: &str, got: &[Vec<u8>], want: &[&[u8]]) {
    let ok = got.len() == want.len() && got.iter().zip(want).all(|(g, w)| g == w);
    let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
    ctx.check(name, ok, Paths(&want), Paths(got));
}

pub fn watches(ctx: &mut Ctx<'_>, c: &mut Client, home: &str) -> Result<(), XsErr> {
    let w = sub("w");
    let abs = format!("{home}/{}", core::str::from_utf8(&w).unwrap_or("")).into_bytes();
    c.write(0, &w, b"")?;
    c.watch(&w, b"rel")?;
    let first = c.next_event(b"rel", now_ns() + EVENT_NS).map(|e| e.path);
    let extra = events(c, b"rel", QUIET_NS);
    let got: Vec<Vec<u8>> = first.into_iter().chain(extra).collect();
    expect_events(ctx, "watch_fires_once_on_registration", &got, &[&w]);
    c.watch(&abs, b"abs")?;
    let got = events(c, b"abs", QUIET_NS);
    expect_events(ctx, "watch_absolute_path_form", &got, &[&abs]);
    let other = sub("other");
    c.write(0, &other, b"")?;
    c.watch(&other, b"other")?;
    events(c, b"other", QUIET_NS);
    let child = sub("w/child");
    let abs_child = format!("{home}/{}", core::str::from_utf8(&child).unwrap_or("")).into_bytes();
    c.write(0, &child, b"1")?;
    let rel = events(c, b"rel", QUIET_NS);
    expect_events(ctx, "watch_fires_on_change", &rel, &[&child]);
    let abs_got = events(c, b"abs", 0);
    expect_events(ctx, "watch_event_to_each_token", &abs_got, &[&abs_child]);
    let none = events(c, b"other", 0);
    expect_events(ctx, "watch_event_not_to_other_tokens", &none, &[]);
    unwatch(ctx, c, &w, &child)?;
    reset(ctx, c, &child)?;
    special(ctx, c)
}

fn unwatch(ctx: &mut Ctx<'_>, c: &mut Client, w: &[u8], child: &[u8]) -> Result<(), XsErr> {
    let stray = c.watches.stray;
    c.unwatch(w, b"rel")?;
    c.write(0, child, b"2")?;
    let got = events(c, b"rel", QUIET_NS);
    let late = c.watches.stray - stray;
    ctx.check(
        "unwatch_stops_events",
        got.is_empty() && late == 0,
        "no event for the token",
        format_args!("{} queued, {late} stray", got.len()),
    );
    let again = answer(c.unwatch(w, b"rel"))?;
    check_answer(ctx, "unwatch_unknown_enoent", Some(XsError::Enoent), again);
    Ok(())
}

fn reset(ctx: &mut Ctx<'_>, c: &mut Client, child: &[u8]) -> Result<(), XsErr> {
    let stray = c.watches.stray;
    events(c, b"abs", 0);
    let r = answer(c.reset_watches())?;
    c.write(0, child, b"3")?;
    c.wait_for(now_ns() + QUIET_NS, |_| false);
    let late = c.watches.stray - stray;
    let ok = r.is_none() && late == 0;
    ctx.check(
        "reset_watches_stops_all",
        ok,
        "OK, then no event at all",
        format_args!("{}, {late} events after", Ans(r)),
    );
    Ok(())
}

fn special(ctx: &mut Ctx<'_>, c: &mut Client) -> Result<(), XsErr> {
    c.watch(b"@releaseDomain", b"rel-dom")?;
    let got = events(c, b"rel-dom", QUIET_NS);
    expect_events(ctx, "watch_special_path", &got, &[b"@releaseDomain"]);
    c.unwatch(b"@releaseDomain", b"rel-dom")
}
