//! How many vCPUs the probe uses: what Xen gives the domain, limited by `vcpus=`.

/// The most vCPUs the kernel brings up (one page of registered `vcpu_info`s: 4096 / 64).
pub const MAX_VCPUS: u32 = 64;

/// Why a `vcpus=` request cannot be met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcpusError {
    /// `vcpus=` asked for more than the domain has.
    AboveDomain { requested: u64, available: u32 },
    /// `vcpus=0`: the boot vCPU always runs.
    Zero,
}

impl core::fmt::Display for VcpusError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::AboveDomain {
                requested,
                available,
            } => write!(
                f,
                "vcpus={requested} is more than this domain has: at most {available} \
                 (raise xl's vcpus= or lower vcpus=)"
            ),
            Self::Zero => write!(f, "vcpus=0: at least 1 (the boot vCPU)"),
        }
    }
}

/// vCPUs Xen gave the domain: ids answer `VCPUOP_is_up` until the first -ENOENT
/// (`exists(id)` is false), capped at [`MAX_VCPUS`].
pub fn count_existing(mut exists: impl FnMut(u32) -> bool) -> u32 {
    (1..MAX_VCPUS).find(|&id| !exists(id)).unwrap_or(MAX_VCPUS)
}

/// vCPUs to use: all `available`, or `requested` if it is not more than that.
pub fn plan(requested: Option<u64>, available: u32) -> Result<u32, VcpusError> {
    match requested {
        None => Ok(available.max(1)),
        Some(0) => Err(VcpusError::Zero),
        Some(n) if n > u64::from(available) => Err(VcpusError::AboveDomain {
            requested: n,
            available,
        }),
        Some(n) => Ok(n as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_until_enoent() {
        assert_eq!(count_existing(|id| id < 3), 3);
        assert_eq!(count_existing(|_| false), 1);
        assert_eq!(count_existing(|_| true), MAX_VCPUS);
    }

    #[test]
    fn errors_name_value_and_maximum() {
        let e = plan(Some(5), 2).unwrap_err();
        assert_eq!(
            e,
            VcpusError::AboveDomain {
                requested: 5,
                available: 2
            }
        );
        let s = e.to_string();
        assert!(s.contains("vcpus=5") && s.contains("at most 2"), "{s}");
        assert_eq!(plan(Some(0), 2), Err(VcpusError::Zero));
    }

    proptest! {
        #[test]
        fn plan_never_exceeds_domain(req in proptest::option::of(0u64..100), avail in 1u32..64) {
            match plan(req, avail) {
                Ok(n) => {
                    prop_assert!(n >= 1 && n <= avail);
                    prop_assert!(req.is_none_or(|r| u64::from(n) == r));
                }
                Err(_) => prop_assert!(req.is_some_and(|r| r == 0 || r > u64::from(avail))),
            }
        }
    }
}
