//! Xen public ABI, trimmed to what xenprobe uses.
//!
//! One module per public header, Xen's names kept (in Rust case) so they stay
//! greppable. Every `#[repr(C)]` struct carries compile-time size and offset
//! asserts taken from the C headers (Xen 4.17, x86_64).

pub mod arch_x86;
pub mod bounce;
pub mod console;
pub mod errno;
pub mod event_channel;
pub mod grant_table;
pub mod hypercall;
pub mod sched;
pub mod shared_info;
pub mod start_info;
pub mod trace;
pub mod vcpu;
pub mod version;
pub mod xenstore;

/// Size of a page on x86.
pub const PAGE_SIZE: usize = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;

/// Writes the names of the flags set in `flags` as Xen spells them without their prefix
/// (`GTF_reading` -> `reading`: the constant's name in lower case), space separated, then any
/// bits the type does not name as `unknown 0x..`; `none` when nothing is set.
pub fn write_flag_names<F>(f: &mut core::fmt::Formatter<'_>, flags: &F) -> core::fmt::Result
where
    F: bitflags::Flags,
    F::Bits: core::fmt::LowerHex,
{
    use core::fmt::Write as _;
    let mut sep = "";
    for (name, _) in flags.iter_names() {
        f.write_str(sep)?;
        name.chars()
            .try_for_each(|c| f.write_char(c.to_ascii_lowercase()))?;
        sep = " ";
    }
    let unknown = flags.bits() & !F::all().bits();
    if unknown != <F::Bits as bitflags::Bits>::EMPTY {
        write!(f, "{sep}unknown {unknown:#x}")
    } else if sep.is_empty() {
        f.write_str("none")
    } else {
        Ok(())
    }
}

/// `Display` for bitflags types through [`write_flag_names`].
macro_rules! display_flag_names {
    ($($t:ty),* $(,)?) => {$(
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::xen::write_flag_names(f, self)
            }
        }
    )*};
}
pub(crate) use display_flag_names;

/// Compile-time layout check: `assert_layout!(Type, size; field => offset, ...)`.
#[macro_export]
macro_rules! assert_layout {
    ($t:ty, $size:expr; $($f:ident => $off:expr),* $(,)?) => {
        const _: () = assert!(core::mem::size_of::<$t>() == $size);
        $(const _: () = assert!(core::mem::offset_of!($t, $f) == $off);)*
    };
}
