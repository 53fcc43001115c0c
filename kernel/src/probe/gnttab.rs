//! Probe `gnttab`: grant tables v1 through a self-grant loopback.
//!
//! We grant one of our pages to ourselves and map that grant into a slot:
//! both addresses must show the same bytes; ending access must be refused
//! while the grant is mapped (GTF_reading/GTF_writing set) and succeed after
//! unmap; a revoked grant, an ungranted reference and a read-only grant
//! mapped read-write must all be refused by Xen.

use super::{Ctx, RunFn};
use crate::drv::gnttab::{self, GntError};
use alloc::boxed::Box;
use xp_core::cmdline::ProbeSpec;
use xp_core::outcome::Outcome;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "gnttab",
    about: "grant tables v1: self-grant map/unmap, end-access safety, refusals",
    options: &[],
    run,
};

#[repr(C, align(4096))]
struct Page([u8; 4096]);

pub fn run(ctx: &mut Ctx<'_>) {
    match ctx.env.gnttab {
        Ok((n, max)) => ctx.info("grant_frames", format_args!("{n} in use, at most {max}")),
        Err(e) => return ctx.error(format_args!("grant table setup: {e}")),
    }
    let Some(domid) = ctx.env.domid else {
        let why = "our domid is unknown (a domU learns it from xenstore)";
        return ctx.check_as("self_grant_loopback", Outcome::Skip, "domid known", why);
    };
    let page = Box::new(Page([0; 4096]));
    let va = &*page as *const Page as u64;
    let r = match gnttab::grant_page(domid, va, false) {
        Ok(r) => r,
        Err(e) => return ctx.error(format_args!("grant_access: {e}")),
    };
    ctx.info("grant_ref", r.0);
    match gnttab::map(domid, r.0, false) {
        Ok(m) => mapped(ctx, &page, m, r),
        Err(e) => {
            ctx.check("map_own_grant", false, "mapped", e);
        }
    }
    refusals(ctx, domid, va, r);
}

fn mapped(ctx: &mut Ctx<'_>, page: &Page, m: gnttab::Mapping, r: gnttab::GrantRef) {
    for i in 0..4096usize {
        // SAFETY: m.va is a page we just mapped read-write; volatile, it aliases `page`.
        unsafe { core::ptr::write_volatile((m.va as *mut u8).add(i), (i * 7 % 251) as u8) };
    }
    let same = (0..4096usize).all(|i| {
        // SAFETY: reading our own page; volatile because it was written through the alias.
        unsafe { core::ptr::read_volatile(page.0.as_ptr().add(i)) == (i * 7 % 251) as u8 }
    });
    ctx.check(
        "map_shares_the_page",
        same,
        "bytes written through the mapping appear in the page",
        same,
    );
    let busy = gnttab::end_access(r);
    let refused = matches!(busy, Err(GntError::InUse { .. }));
    ctx.check(
        "end_access_refused_while_mapped",
        refused,
        "InUse (GTF_reading|GTF_writing)",
        format_args!("{busy:?}"),
    );
    let un = gnttab::unmap(m);
    ctx.check("unmap", un.is_ok(), "ok", format_args!("{un:?}"));
    let end = gnttab::end_access(r);
    ctx.check(
        "end_access_after_unmap",
        end.is_ok(),
        "ok",
        format_args!("{end:?}"),
    );
}

fn refused(res: Result<gnttab::Mapping, GntError>) -> (bool, alloc::string::String) {
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
            let _ = gnttab::unmap(m);
            (false, "mapped".into())
        }
    }
}

fn refusals(ctx: &mut Ctx<'_>, domid: u16, va: u64, revoked: gnttab::GrantRef) {
    let (ok, seen) = refused(gnttab::map(domid, revoked.0, false));
    ctx.check("map_revoked_grant_refused", ok, "GNTST_* error", seen);
    let (ok, seen) = refused(gnttab::map(
        domid,
        xp_core::xen::grant_table::ENTRIES_PER_FRAME - 1,
        false,
    ));
    ctx.check("map_ungranted_ref_refused", ok, "GNTST_* error", seen);
    match gnttab::grant_page(domid, va, true) {
        Ok(ro) => {
            let (ok, seen) = refused(gnttab::map(domid, ro.0, false));
            ctx.check(
                "readonly_grant_mapped_rw_refused",
                ok,
                "GNTST_* error",
                seen,
            );
            let _ = gnttab::end_access(ro);
        }
        Err(e) => ctx.error(format_args!("read-only grant: {e}")),
    }
}
