//! Test outcomes, XTF convention: the most severe outcome wins.

use core::fmt;

/// The verdict of a check, a probe or a whole run.
///
/// Ordered by severity (`Success < Skip < Error < Failure`), as XTF orders
/// them: failure means the thing under test is wrong, error means the probe
/// or its environment is broken, skip means it could not be tested here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Success,
    Skip,
    Error,
    Failure,
}

impl Outcome {
    /// All outcomes, least severe first.
    pub const ALL: [Outcome; 4] = [Self::Success, Self::Skip, Self::Error, Self::Failure];

    /// The word on the `Test result:` line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Skip => "SKIP",
            Self::Error => "ERROR",
            Self::Failure => "FAILURE",
        }
    }

    /// The lower-case verdict used in `@xp` check records.
    pub fn verdict(self) -> &'static str {
        match self {
            Self::Success => "pass",
            Self::Skip => "skip",
            Self::Error => "error",
            Self::Failure => "fail",
        }
    }

    /// Parse either spelling (`SUCCESS` or `pass`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == s || o.verdict() == s)
    }

    /// The more severe of the two.
    pub fn worst(self, other: Self) -> Self {
        self.max(other)
    }

    /// xtf-runner's exit code for this outcome (CRASH, 6, is decided by the host).
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Success => 0,
            Self::Skip => 3,
            Self::Error => 4,
            Self::Failure => 5,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The exact final line a run prints, without the newline.
pub const RESULT_PREFIX: &str = "Test result: ";
/// Prefix of every machine-readable console line.
pub const RECORD_PREFIX: &str = "@xp ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_severe_wins() {
        use Outcome::*;
        assert_eq!(Success.worst(Skip), Skip);
        assert_eq!(Skip.worst(Error), Error);
        assert_eq!(Failure.worst(Error), Failure);
        assert_eq!(Success.worst(Success), Success);
    }

    #[test]
    fn names_round_trip_and_exit_codes() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.name()), Some(o));
            assert_eq!(Outcome::parse(o.verdict()), Some(o));
        }
        assert_eq!(Outcome::parse("CRASH"), None);
        let codes: [i32; 4] = Outcome::ALL.map(Outcome::exit_code);
        assert_eq!(codes, [0, 3, 4, 5]);
    }
}
