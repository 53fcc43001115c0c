//! Reads and writes, sizes and path limits, permissions, many requests in
//! flight. Everything lives under `data/xp-c` (`data` is the one node a
//! domU may create children in).

use super::common::{answer, check_answer, check_impl, check_impl_by, check_signal, Ans, Assumed};
use super::identify::ask;
use super::BASE;
use crate::drv::xenstore::{Client, XsErr};
use crate::probe::shown::Done;
use crate::probe::Ctx;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use xp_core::xs::fingerprint::{Impl, Signal};
use xp_core::xs::Perms;
use xp_core::xs::{EncodeError, Perm, PermKind, Request, XsError, XENSTORE_ABS_PATH_MAX};

fn path(leaf: &str) -> Vec<u8> {
    format!("{}/{leaf}", core::str::from_utf8(BASE).unwrap_or("")).into_bytes()
}

/// Writes `value` to `leaf` and reads it back.
fn round_trip(
    ctx: &mut Ctx<'_>,
    c: &mut Client,
    name: &str,
    leaf: &str,
    value: &[u8],
) -> Result<(), XsErr> {
    let p = path(leaf);
    c.write(0, &p, value)?;
    let back = c.read(0, &p)?;
    ctx.check(
        name,
        back == value,
        format_args!("{} bytes back unchanged", value.len()),
        format_args!("{} bytes, equal {}", back.len(), back == value),
    );
    Ok(())
}

pub fn read_write(ctx: &mut Ctx<'_>, c: &mut Client) -> Result<(), XsErr> {
    let missing = answer(c.read(0, &path("missing")))?;
    check_answer(ctx, "read_missing_enoent", Some(XsError::Enoent), missing);
    round_trip(ctx, c, "write_read_empty", "empty", b"")?;
    let binary: Vec<u8> = (0..=255u8).collect();
    round_trip(ctx, c, "write_read_binary", "binary", &binary)?;
    round_trip(ctx, c, "write_read_2000", "big", &[b'x'; 2000])?;
    c.mkdir(0, &path("dir"))?;
    let again = answer(c.mkdir(0, &path("dir")))?;
    let value = c.read(0, &path("dir"))?;
    ctx.check(
        "mkdir_idempotent_empty",
        again.is_none() && value.is_empty(),
        "OK twice, empty value",
        format_args!("{}, {} bytes", Ans(again), value.len()),
    );
    let rm_missing = answer(c.rm(0, &path("nope")))?;
    check_answer(ctx, "rm_missing_leaf_ok", None, rm_missing);
    let rm_deep = answer(c.rm(0, &path("nope/deeper")))?;
    check_answer(
        ctx,
        "rm_missing_parent_enoent",
        Some(XsError::Enoent),
        rm_deep,
    );
    let mut names = c.directory(0, BASE)?;
    names.sort();
    let want: [&[u8]; 4] = [b"big", b"binary", b"dir", b"empty"];
    let shown: Vec<String> = names
        .iter()
        .map(|n| format!("{}", n.escape_ascii()))
        .collect();
    ctx.check(
        "directory_lists_children",
        names == want,
        "big, binary, dir, empty",
        shown.join(", "),
    );
    Ok(())
}

/// The largest value the daemon stores, found by bisection, and its error beyond.
pub fn value_limit(ctx: &mut Ctx<'_>, c: &mut Client, imp: Assumed) -> Result<(), XsErr> {
    let p = path("v");
    let (mut ok, mut bad) = (2000usize, 4000usize);
    while ok + 1 < bad {
        let mid = (ok + bad) / 2;
        match answer(c.write(0, &p, &vec![b'v'; mid]))? {
            None => ok = mid,
            Some(_) => bad = mid,
        }
    }
    let err = answer(c.write(0, &p, &vec![b'v'; bad]))?;
    // C counts the node record (value, perms, header) against 2048; oxenstored the value.
    let limit = |i: Impl| match i {
        Impl::C => (1990..=2047, XsError::Enospc),
        Impl::Ocaml => (2048..=2048, XsError::E2big),
    };
    check_impl_by(
        ctx,
        imp,
        "value_limit",
        |i| {
            match i {
            Impl::C => String::from("1990 to 2047 bytes (the node record, value with its permissions and header, at most 2048), then ENOSPC"),
            Impl::Ocaml => String::from("2048 bytes, then E2BIG"),
        }
        },
        |i| limit(i).0.contains(&ok) && err == Some(limit(i).1),
        format_args!("{ok} bytes accepted, {bad} bytes {}", Ans(err)),
    );
    let over = c.write(0, &p, &[b'v'; 4090]);
    let refused = matches!(
        over,
        Err(XsErr::Refused(EncodeError::PayloadTooLong { .. }))
    );
    ctx.check(
        "payload_over_4096_refused",
        refused,
        "refused by the client, nothing sent",
        Done(&over),
    );
    c.rm(0, &p)
}

/// An absolute path under our home of exactly `rel` bytes after `home/`, made of
/// components short enough that no node's child list gets big.
fn long_path(home: &str, rel: usize) -> Vec<u8> {
    let mut p = format!("{home}/{}/p", core::str::from_utf8(BASE).unwrap_or("")).into_bytes();
    let want = home.len() + 1 + rel;
    while p.len() < want {
        let n = (want - p.len()).min(200);
        if n == 1 {
            p.push(b'z');
        } else {
            p.push(b'/');
            p.extend(core::iter::repeat_n(b'a', n - 1));
        }
    }
    p
}

/// Path length limits: the daemon's (relative to our home: C xenstored 2048, oxenstored
/// 1024), and the client's own (3072 absolute) before sending.
pub fn path_limits(
    ctx: &mut Ctx<'_>,
    c: &mut Client,
    imp: Assumed,
    home: &str,
) -> Result<(), XsErr> {
    let limit = |i: Impl| match i {
        Impl::C => 2048,
        Impl::Ocaml => 1024,
    };
    if let Some(max) = imp.imp.map(limit) {
        let at = answer(c.write(0, &long_path(home, max), b""))?;
        let over = answer(c.write(0, &long_path(home, max + 1), b""))?;
        let got = format!("{} at {max}, {} at {}", Ans(at), Ans(over), max + 1);
        check_impl(
            ctx,
            imp,
            "path_max_accepted_one_more_refused",
            |i| format!("OK at {}, EINVAL at {}", limit(i), limit(i) + 1),
            got,
        );
        c.rm(0, &path("p"))?;
    } else {
        ctx.check(
            "path_max_accepted_one_more_refused",
            false,
            "xenstore.expect=c|ocaml, or a consistent fingerprint",
            "neither",
        );
    }
    let mut abs = long_path(home, XENSTORE_ABS_PATH_MAX - home.len() - 1);
    abs.push(b'z');
    let r = c.write(0, &abs, b"");
    let refused = matches!(r, Err(XsErr::Refused(EncodeError::Path(_))));
    ctx.check(
        "client_refuses_path_over_3072",
        refused,
        "refused before sending",
        format_args!("{} bytes: {}", abs.len(), Done(&r)),
    );
    Ok(())
}

/// Permission denials on other domains' nodes and on our read-only ones; SET_PERMS.
pub fn permissions(
    ctx: &mut Ctx<'_>,
    c: &mut Client,
    imp: Assumed,
    domid: u16,
) -> Result<(), XsErr> {
    let eacces = Some(XsError::Eacces);
    let r = answer(c.read(0, b"/local/domain/0/name"))?;
    check_answer(ctx, "read_dom0_node_eacces", eacces, r);
    let w = answer(c.write(0, b"/local/domain/0/xp", b"x"))?;
    check_answer(ctx, "write_dom0_tree_eacces", eacces, w);
    let own = answer(c.write(0, b"name", b"x"))?;
    check_answer(ctx, "write_own_readonly_node_eacces", eacces, own);
    let perms = c.get_perms(0, b"name")?;
    let want = [
        Perm::new(PermKind::None, 0),
        Perm::new(PermKind::Read, domid),
    ];
    ctx.check(
        "get_perms_own_name",
        perms == want,
        format_args!("{} (written by the toolstack)", Perms(&want)),
        Perms(&perms),
    );
    let p = path("perm");
    c.write(0, &p, b"")?;
    let set = [
        Perm::new(PermKind::Both, domid),
        Perm::new(PermKind::Read, 0),
    ];
    c.set_perms(0, &p, &set)?;
    let back = c.get_perms(0, &p)?;
    ctx.check(
        "set_perms_round_trip",
        back == set,
        Perms(&set),
        Perms(&back),
    );
    let other = answer(c.set_perms(0, b"name", &[Perm::new(PermKind::Both, domid)]))?;
    check_answer(ctx, "set_perms_others_node_eacces", eacces, other);
    let give = answer(c.set_perms(0, &p, &[Perm::new(PermKind::None, 0)]))?;
    check_signal(
        ctx,
        imp,
        "set_perms_give_away",
        Signal::GiveAwayOwnership,
        give,
    );
    let missing = ask(c, Signal::MissingUnderUnreadable)?;
    check_signal(
        ctx,
        imp,
        "read_missing_under_unreadable",
        Signal::MissingUnderUnreadable,
        missing,
    );
    Ok(())
}

/// GET_DOMAIN_PATH, and 16 READs in flight at once, collected in reverse order.
pub fn misc(ctx: &mut Ctx<'_>, c: &mut Client, domid: u16, home: &str) -> Result<(), XsErr> {
    let own = c.get_domain_path(domid)?;
    let dom0 = c.get_domain_path(0)?;
    let ok = own == home.as_bytes() && dom0 == b"/local/domain/0";
    ctx.check(
        "get_domain_path",
        ok,
        format_args!("{home} and /local/domain/0"),
        format_args!("{} and {}", own.escape_ascii(), dom0.escape_ascii()),
    );
    const N: usize = 16;
    for i in 0..N {
        c.write(0, &path(&format!("q{i}")), format!("value {i}").as_bytes())?;
    }
    let paths: Vec<Vec<u8>> = (0..N).map(|i| path(&format!("q{i}"))).collect();
    let mut ids = Vec::new();
    for p in &paths {
        ids.push(c.send(&Request::Read { path: p }, 0)?);
    }
    let mut right = 0;
    for (i, id) in ids.iter().enumerate().rev() {
        right += usize::from(c.finish(*id)?.payload == format!("value {i}").as_bytes());
    }
    ctx.check(
        "pipelined_reads_matched_by_req_id",
        right == N,
        format_args!("{N} replies, each to its request"),
        right,
    );
    Ok(())
}
