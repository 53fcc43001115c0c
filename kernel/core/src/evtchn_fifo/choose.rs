//! Which event-channel ABI runs: what `evtchn.abi=` asked for, and what Xen
//! answered when vCPU 0's FIFO control block was registered.

use crate::cmdline::EvtchnAbi;
use crate::xen::errno;

/// `evtchn.abi=fifo` on a Xen that refused EVTCHNOP_init_control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FifoUnavailable {
    /// EVTCHNOP_init_control's return value (a negative errno).
    pub rc: i64,
}

impl core::fmt::Display for FifoUnavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "evtchn.abi=fifo: this Xen does not offer FIFO event channels \
             (EVTCHNOP_init_control for vCPU 0: {} {}); possible here: evtchn.abi=2l, \
             or no evtchn.abi= to use what Xen offers",
            self.rc,
            errno::name(self.rc)
        )
    }
}

/// Whether to try FIFO at all (`evtchn.abi=2l` never touches it).
pub fn wants_fifo(requested: Option<EvtchnAbi>) -> bool {
    requested != Some(EvtchnAbi::TwoLevel)
}

/// The ABI in use after trying FIFO: `init_control` is EVTCHNOP_init_control's
/// result for vCPU 0 (`None` when it was not tried). Without `evtchn.abi=`,
/// a Xen that refuses FIFO leaves the 2-level ABI in place, as Linux does.
pub fn choose_abi(
    requested: Option<EvtchnAbi>,
    init_control: Option<Result<(), i64>>,
) -> Result<EvtchnAbi, FifoUnavailable> {
    match (requested, init_control) {
        (_, Some(Ok(()))) => Ok(EvtchnAbi::Fifo),
        (Some(EvtchnAbi::Fifo), Some(Err(rc))) => Err(FifoUnavailable { rc }),
        _ => Ok(EvtchnAbi::TwoLevel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EvtchnAbi::*;

    #[test]
    fn fifo_by_default_where_offered_and_an_error_only_when_asked_for() {
        assert!(wants_fifo(None) && wants_fifo(Some(Fifo)) && !wants_fifo(Some(TwoLevel)));
        assert_eq!(choose_abi(None, Some(Ok(()))), Ok(Fifo));
        assert_eq!(choose_abi(Some(Fifo), Some(Ok(()))), Ok(Fifo));
        assert_eq!(choose_abi(None, Some(Err(-38))), Ok(TwoLevel));
        assert_eq!(choose_abi(Some(TwoLevel), None), Ok(TwoLevel));
        let e = choose_abi(Some(Fifo), Some(Err(-38))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "evtchn.abi=fifo: this Xen does not offer FIFO event channels \
             (EVTCHNOP_init_control for vCPU 0: -38 ENOSYS); possible here: evtchn.abi=2l, \
             or no evtchn.abi= to use what Xen offers"
        );
    }
}
