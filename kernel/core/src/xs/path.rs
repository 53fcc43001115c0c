//! Path rules of docs/misc/xenstore.txt: ASCII alphanumerics and `-/_@`,
//! no doubled or trailing slash (except the root `/`), not empty, at most
//! [`XENSTORE_ABS_PATH_MAX`] bytes if absolute and [`XENSTORE_REL_PATH_MAX`]
//! if relative. Watches may also name a special path `@<anything>`.

use super::wire::{XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX};

/// Why a path is not a valid xenstore path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PathError {
    Empty,
    /// `len` bytes, over the limit `max` for its kind (absolute/relative).
    TooLong {
        len: usize,
        max: usize,
    },
    /// A byte outside `[A-Za-z0-9-/_@]` at offset `at`.
    BadChar {
        at: usize,
        byte: u8,
    },
    /// `//` starting at offset `at`.
    DoubleSlash {
        at: usize,
    },
    /// A trailing `/` on a path other than `/`.
    TrailingSlash,
}

/// Whether a byte may appear in a node path.
pub const fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_' | b'@')
}

/// Checks a node path (READ, WRITE, MKDIR, ...), absolute or relative.
pub fn validate_path(p: &[u8]) -> Result<(), PathError> {
    check_len(p)?;
    if let Some(at) = p.iter().position(|&b| !is_path_byte(b)) {
        return Err(PathError::BadChar { at, byte: p[at] });
    }
    if let Some(at) = p.windows(2).position(|w| w == b"//") {
        return Err(PathError::DoubleSlash { at });
    }
    if p.len() > 1 && p.ends_with(b"/") {
        return Err(PathError::TrailingSlash);
    }
    Ok(())
}

/// Checks a watch path: a node path, or `@` followed by any NUL-free text
/// (`@introduceDomain`, `@releaseDomain`, ...).
pub fn validate_watch_path(p: &[u8]) -> Result<(), PathError> {
    if p.first() != Some(&b'@') {
        return validate_path(p);
    }
    check_len(p)?;
    match p.iter().position(|&b| b == 0) {
        Some(at) => Err(PathError::BadChar { at, byte: 0 }),
        None => Ok(()),
    }
}

fn check_len(p: &[u8]) -> Result<(), PathError> {
    let max = match p.first() {
        None => return Err(PathError::Empty),
        Some(b'/') | Some(b'@') => XENSTORE_ABS_PATH_MAX,
        Some(_) => XENSTORE_REL_PATH_MAX,
    };
    match p.len() > max {
        true => Err(PathError::TooLong { len: p.len(), max }),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            &b"/"[..],
            b"/local/domain/0",
            b"device/vif/0",
            b"a",
            b"/a-b_c@d/9",
        ] {
            assert_eq!(validate_path(p), Ok(()), "{p:?}");
        }
    }

    #[test]
    fn refuses_empty_bad_chars_and_slashes() {
        assert_eq!(validate_path(b""), Err(PathError::Empty));
        assert_eq!(
            validate_path(b"/a b"),
            Err(PathError::BadChar { at: 2, byte: b' ' })
        );
        assert_eq!(
            validate_path(b"/a\0"),
            Err(PathError::BadChar { at: 2, byte: 0 })
        );
        assert_eq!(
            validate_path(b"/a//b"),
            Err(PathError::DoubleSlash { at: 2 })
        );
        assert_eq!(validate_path(b"//"), Err(PathError::DoubleSlash { at: 0 }));
        assert_eq!(validate_path(b"/a/"), Err(PathError::TrailingSlash));
        assert_eq!(validate_path(b"a/"), Err(PathError::TrailingSlash));
    }

    #[test]
    fn length_limits_depend_on_kind() {
        let mut abs = [b'a'; XENSTORE_ABS_PATH_MAX + 1];
        abs[0] = b'/';
        assert_eq!(validate_path(&abs[..XENSTORE_ABS_PATH_MAX]), Ok(()));
        let len = XENSTORE_ABS_PATH_MAX + 1;
        let e = PathError::TooLong {
            len,
            max: XENSTORE_ABS_PATH_MAX,
        };
        assert_eq!(validate_path(&abs), Err(e));
        let rel = [b'a'; XENSTORE_REL_PATH_MAX + 1];
        assert_eq!(validate_path(&rel[..XENSTORE_REL_PATH_MAX]), Ok(()));
        let len = XENSTORE_REL_PATH_MAX + 1;
        let e = PathError::TooLong {
            len,
            max: XENSTORE_REL_PATH_MAX,
        };
        assert_eq!(validate_path(&rel), Err(e));
    }

    #[test]
    fn watch_paths_allow_specials() {
        assert_eq!(validate_watch_path(b"@releaseDomain"), Ok(()));
        assert_eq!(validate_watch_path(b"@any thing!"), Ok(()));
        assert_eq!(
            validate_watch_path(b"@a\0"),
            Err(PathError::BadChar { at: 2, byte: 0 })
        );
        assert_eq!(
            validate_watch_path(b"/a//b"),
            Err(PathError::DoubleSlash { at: 2 })
        );
        assert_eq!(validate_watch_path(b""), Err(PathError::Empty));
        assert_eq!(validate_path(b"@releaseDomain"), Ok(()));
        assert!(validate_path(b"@release Domain").is_err());
    }
}
