//! Probe `gnttab`: grant tables v1 through a self-grant loopback.
//!
//! We grant one of our pages to ourselves and map that grant into a slot:
//! both addresses must show the same bytes; ending access must be refused
//! while the grant is mapped (GTF_reading/GTF_writing set) and succeed after
//! unmap; a revoked grant, an ungranted reference and a read-only grant
//! mapped read-write must all be refused by Xen.

use super::{Ctx, RunFn};
use crate::drv::gnttab::{self, GntError};
use crate::drv::ring::{GrantedPage, MappedPage};
use crate::shmem::PAGE_SIZE;
use xp_core::cmdline::ProbeSpec;
use xp_core::outcome::Outcome;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "gnttab",
    about: "grant tables v1: self-grant map/unmap, end-access safety, refusals",
    options: &[],
    run,
};

pub fn run(ctx: &mut Ctx<'_>) {
    match ctx.env.gnttab {
        Ok((n, max)) => ctx.info("grant_frames", format_args!("{n} in use, at most {max}")),
        Err(e) => return ctx.error(format_args!("grant table setup: {e}")),
    }
    let Some(domid) = ctx.env.domid else {
        let why = "our domid is unknown (a domU learns it from xenstore)";
        return ctx.check_as("self_grant_loopback", Outcome::Skip, "domid known", why);
    };
    let mut page = match GrantedPage::new(domid, false) {
        Ok(p) => p,
        Err(e) => return ctx.error(format_args!("grant_access: {e}")),
    };
    ctx.info("grant_ref", page.gref.0);
    let revoked = page.gref;
    match MappedPage::map(domid, page.gref.0, false) {
        Ok(m) => mapped(ctx, &mut page, m),
        Err(e) => {
            ctx.check("map_own_grant", false, "mapped", e);
        }
    }
    refusals(ctx, domid, revoked);
}

fn mapped(ctx: &mut Ctx<'_>, page: &mut GrantedPage, m: MappedPage) {
    let pattern = |i: usize| (i * 7 % 251) as u8;
    let data: alloc::vec::Vec<u8> = (0..PAGE_SIZE).map(pattern).collect();
    let mut back = alloc::vec![0u8; PAGE_SIZE];
    let _ = m.page().copy_in(0, &data);
    let _ = page.page().copy_out(0, &mut back);
    let same = back == data;
    ctx.check(
        "map_shares_the_page",
        same,
        "bytes written through the mapping appear in the page",
        same,
    );
    let busy = page.end();
    let refused = matches!(busy, Err(GntError::InUse { .. }));
    ctx.check(
        "end_access_refused_while_mapped",
        refused,
        "refused: grant still in use by the peer (GTF_reading|GTF_writing)",
        match &busy {
            Ok(()) => alloc::string::String::from("ended while mapped"),
            Err(e) => alloc::format!("refused: {e}"),
        },
    );
    let un = m.unmap();
    ctx.check("unmap", un.is_ok(), "ok", super::shown::Done(&un));
    let end = page.end();
    ctx.check(
        "end_access_after_unmap",
        end.is_ok(),
        "ok",
        super::shown::Done(&end),
    );
}

fn refused(res: Result<MappedPage, GntError>) -> (bool, alloc::string::String) {
    match res {
        Err(GntError::Status { status, .. }) => (
            true,
            alloc::format!(
                "refused: {}",
                GntError::Status {
                    op: "map_grant_ref",
                    status
                }
            ),
        ),
        Err(e) => (false, alloc::format!("error {e}")),
        Ok(m) => {
            let _ = m.unmap();
            (false, "mapped".into())
        }
    }
}

fn refusals(ctx: &mut Ctx<'_>, domid: u16, revoked: gnttab::GrantRef) {
    let (ok, seen) = refused(MappedPage::map(domid, revoked.0, false));
    ctx.check("map_revoked_grant_refused", ok, "GNTST_* error", seen);
    let last = xp_core::xen::grant_table::ENTRIES_PER_FRAME - 1;
    let (ok, seen) = refused(MappedPage::map(domid, last, false));
    ctx.check("map_ungranted_ref_refused", ok, "GNTST_* error", seen);
    match GrantedPage::new(domid, true) {
        Ok(ro) => {
            let (ok, seen) = refused(MappedPage::map(domid, ro.gref.0, false));
            ctx.check(
                "readonly_grant_mapped_rw_refused",
                ok,
                "GNTST_* error",
                seen,
            );
        }
        Err(e) => ctx.error(format_args!("read-only grant: {e}")),
    }
}
