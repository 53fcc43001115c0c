//! Which xenstored is this, from behaviour alone (xp_core::xs::fingerprint):
//! the ring page's server_features, then four cheap requests that C
//! xenstored and oxenstored answer differently.

use super::common::{answer, Ans};
use crate::drv::xenstore::{Client, XsErr};
use crate::probe::Ctx;
use alloc::string::String;
use alloc::vec::Vec;
use xp_core::xs::fingerprint::{vote_server_features, Impl, Signal, Tally};
use xp_core::xs::{MsgType, Part, XsError};

/// A transaction id no one started.
const NO_SUCH_TX: u32 = 0x7ead_beef;

/// Asks the request behind `s`; the daemon's answer.
pub fn ask(c: &mut Client, s: Signal) -> Result<Option<XsError>, XsErr> {
    match s {
        Signal::DirectoryPart => answer(c.directory_part(0, b"data", 0)),
        Signal::UnknownTransaction => answer(c.transaction_end(NO_SUCH_TX, true)),
        Signal::MissingUnderUnreadable => answer(c.read(0, b"/local/domain/0/xp-no-such-node")),
        Signal::ControlFromDomU => {
            let id = c.send_raw(
                MsgType::CONTROL,
                0,
                &[Part::Str(b"print"), Part::Str(b"xenprobe fingerprint")],
            )?;
            answer(c.finish(id))
        }
        // The quota signals need the quota filled; the conformance probe does that.
        _ => Ok(None),
    }
}

/// Fingerprints the daemon and reports it (`xenstored_impl`: c, ocaml or unknown).
pub fn identify(ctx: &mut Ctx<'_>, c: &mut Client) -> Result<Option<Impl>, XsErr> {
    let mut t = Tally::default();
    let features = c.page().server_features();
    t.add(vote_server_features(features));
    let (conn, err) = (c.page().connection(), c.page().error());
    ctx.info(
        "server_features",
        format_args!("{features:#x} (connection {conn}, error {err})"),
    );
    let mut seen = Vec::new();
    for s in Signal::QUICK {
        let got = ask(c, s)?;
        t.add(s.vote(got));
        seen.push(alloc::format!("{}: {}", s.name(), Ans(got)));
    }
    let get_feature = answer(c.get_feature())?;
    let imp = t.verdict();
    ctx.info("xenstored_signals", seen.join("; "));
    ctx.info("xenstored_impl", imp.map_or("unknown", Impl::key));
    let votes = imp.map_or(0, |i| t.votes(i));
    ctx.info(
        "xenstored_fingerprint",
        format_args!(
            "{} ({votes} of {} signals agree)",
            imp.map_or("unknown", Impl::name),
            t.total()
        ),
    );
    ctx.info("xenstored_version_hints", hints(imp, features, get_feature));
    Ok(imp)
}

/// What the answers say about the release.
fn hints(imp: Option<Impl>, features: u32, get_feature: Option<XsError>) -> String {
    let mut h = Vec::new();
    match imp {
        Some(Impl::C) => h.push("DIRECTORY_PART implemented (C xenstored has it since Xen 4.9)"),
        Some(Impl::Ocaml) => {
            h.push("types >= 22 answered ENOSYS, CONTROL open to domUs (oxenstored)")
        }
        None => h.push("no consistent implementation"),
    }
    if get_feature == Some(XsError::Enosys) {
        h.push("GET_FEATURE (23) not implemented: a release without xenstore feature negotiation, like Xen 4.17's");
    } else {
        h.push("GET_FEATURE implemented: a newer release than Xen 4.17");
    }
    match features {
        0 => h.push("server_features 0: no reconnection support"),
        f => {
            h.push(if f & 1 != 0 {
                "reconnection supported (server_features bit 0)"
            } else {
                ""
            });
            if f & 2 != 0 {
                h.push("ring error reporting (server_features bit 1)");
            }
        }
    }
    h.retain(|s| !s.is_empty());
    h.join("; ")
}
