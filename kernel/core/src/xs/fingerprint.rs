//! Which xenstored answers, from behaviour alone: C xenstored and
//! oxenstored (both as shipped with Xen 4.17) answer some requests
//! differently. Each [`Signal`] is one such request, with what each
//! implementation answers; an observed answer votes for the implementation
//! that gives it, and [`Tally`] decides.
//!
//! Answers are `None` for success, `Some(error)` for an ERROR reply.

use super::error::XsError;

/// A xenstored implementation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Impl {
    C,
    Ocaml,
}

impl Impl {
    pub const ALL: [Impl; 2] = [Impl::C, Impl::Ocaml];

    /// Short name for records (`c`, `ocaml`, as `--xenstored` spells them).
    pub const fn key(self) -> &'static str {
        match self {
            Impl::C => "c",
            Impl::Ocaml => "ocaml",
        }
    }

    /// Human name.
    pub const fn name(self) -> &'static str {
        match self {
            Impl::C => "C xenstored",
            Impl::Ocaml => "oxenstored (OCaml)",
        }
    }

    pub const fn other(self) -> Impl {
        match self {
            Impl::C => Impl::Ocaml,
            Impl::Ocaml => Impl::C,
        }
    }
}

/// A request whose answer tells the implementations apart (observed in the lab).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Signal {
    /// DIRECTORY_PART (type 22): C implements it, oxenstored answers ENOSYS.
    DirectoryPart,
    /// TRANSACTION_END of a transaction id that does not exist.
    UnknownTransaction,
    /// READ of a missing node under a node the guest may not read (C does
    /// not reveal that it is missing).
    MissingUnderUnreadable,
    /// CONTROL (type 0) from an unprivileged domain.
    ControlFromDomU,
    /// SET_PERMS by a domU giving its node to another owner.
    GiveAwayOwnership,
    /// TRANSACTION_START over the transaction quota.
    TransactionQuota,
    /// WATCH over the watch quota.
    WatchQuota,
    /// Creating a node over the node quota.
    NodeQuota,
}

impl Signal {
    /// The signals cheap enough to ask before anything else.
    pub const QUICK: [Signal; 4] = [
        Signal::DirectoryPart,
        Signal::UnknownTransaction,
        Signal::MissingUnderUnreadable,
        Signal::ControlFromDomU,
    ];

    /// What `imp` answers.
    pub const fn expected(self, imp: Impl) -> Option<XsError> {
        use XsError::*;
        match (self, imp) {
            (Signal::DirectoryPart, Impl::C) => None,
            (Signal::DirectoryPart, Impl::Ocaml) => Some(Enosys),
            (Signal::UnknownTransaction, Impl::C) => Some(Enoent),
            (Signal::UnknownTransaction, Impl::Ocaml) => Some(Eio),
            (Signal::MissingUnderUnreadable, Impl::C) => Some(Eacces),
            (Signal::MissingUnderUnreadable, Impl::Ocaml) => Some(Enoent),
            (Signal::ControlFromDomU, Impl::C) => Some(Eacces),
            (Signal::ControlFromDomU, Impl::Ocaml) => None,
            (Signal::GiveAwayOwnership, Impl::C) => Some(Eperm),
            (Signal::GiveAwayOwnership, Impl::Ocaml) => Some(Eacces),
            (Signal::TransactionQuota | Signal::NodeQuota, Impl::C) => Some(Enospc),
            (Signal::WatchQuota, Impl::C) => Some(E2big),
            (Signal::TransactionQuota | Signal::WatchQuota | Signal::NodeQuota, Impl::Ocaml) => {
                Some(Equota)
            }
        }
    }

    /// The implementation whose answer this is, if exactly one gives it.
    pub fn vote(self, observed: Option<XsError>) -> Option<Impl> {
        let mut it = Impl::ALL
            .into_iter()
            .filter(|&i| self.expected(i) == observed);
        match (it.next(), it.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Signal::DirectoryPart => "DIRECTORY_PART",
            Signal::UnknownTransaction => "TRANSACTION_END of an unknown id",
            Signal::MissingUnderUnreadable => "READ of a missing node under an unreadable one",
            Signal::ControlFromDomU => "CONTROL from a domU",
            Signal::GiveAwayOwnership => "SET_PERMS giving the node away",
            Signal::TransactionQuota => "transaction quota error",
            Signal::WatchQuota => "watch quota error",
            Signal::NodeQuota => "node quota error",
        }
    }
}

/// The ring page's `server_features`: oxenstored sets bit 0 (reconnection),
/// C xenstored 4.17 leaves the field 0.
pub fn vote_server_features(features: u32) -> Option<Impl> {
    match features {
        0 => Some(Impl::C),
        f if f & 1 != 0 => Some(Impl::Ocaml),
        _ => None,
    }
}

/// Votes counted so far.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Tally {
    pub c: u32,
    pub ocaml: u32,
    /// Observations that matched neither implementation.
    pub neither: u32,
}

impl Tally {
    pub fn add(&mut self, vote: Option<Impl>) {
        match vote {
            Some(Impl::C) => self.c += 1,
            Some(Impl::Ocaml) => self.ocaml += 1,
            None => self.neither += 1,
        }
    }

    pub fn total(&self) -> u32 {
        self.c + self.ocaml + self.neither
    }

    /// The implementation with a strict majority of all observations.
    pub fn verdict(&self) -> Option<Impl> {
        let half = self.total() / 2;
        match (self.c, self.ocaml) {
            (c, _) if c > half => Some(Impl::C),
            (_, o) if o > half => Some(Impl::Ocaml),
            _ => None,
        }
    }

    /// Votes for `imp`.
    pub fn votes(&self, imp: Impl) -> u32 {
        match imp {
            Impl::C => self.c,
            Impl::Ocaml => self.ocaml,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_implementation_votes_for_itself() {
        let all = [
            Signal::DirectoryPart,
            Signal::UnknownTransaction,
            Signal::MissingUnderUnreadable,
            Signal::ControlFromDomU,
            Signal::GiveAwayOwnership,
            Signal::TransactionQuota,
            Signal::WatchQuota,
            Signal::NodeQuota,
        ];
        for imp in Impl::ALL {
            let mut t = Tally::default();
            for s in all {
                assert_ne!(
                    s.expected(imp),
                    s.expected(imp.other()),
                    "{s:?} must differ"
                );
                t.add(s.vote(s.expected(imp)));
            }
            assert_eq!(t.votes(imp), all.len() as u32);
            assert_eq!(t.verdict(), Some(imp));
        }
    }

    #[test]
    fn unexpected_answers_vote_for_nobody() {
        assert_eq!(Signal::DirectoryPart.vote(Some(XsError::Einval)), None);
        assert_eq!(vote_server_features(0), Some(Impl::C));
        assert_eq!(vote_server_features(3), Some(Impl::Ocaml));
        assert_eq!(vote_server_features(2), None);
    }

    #[test]
    fn verdict_needs_a_majority() {
        let mut t = Tally::default();
        assert_eq!(t.verdict(), None);
        t.add(Some(Impl::C));
        t.add(None);
        assert_eq!(t.verdict(), None, "1 of 2 is no majority");
        t.add(Some(Impl::C));
        assert_eq!(t.verdict(), Some(Impl::C));
        t.add(Some(Impl::Ocaml));
        t.add(Some(Impl::Ocaml));
        assert_eq!(t.verdict(), None);
        assert_eq!(Impl::Ocaml.key(), "ocaml");
    }
}
