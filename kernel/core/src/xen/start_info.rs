//! `struct start_info` (xen.h): what Xen hands a PV guest at entry (rsi).

/// Length of the command line buffer (`MAX_GUEST_CMDLINE`).
pub const MAX_GUEST_CMDLINE: usize = 1024;
bitflags::bitflags! {
    /// start_info.flags (`SIF_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SifFlags: u32 {
        /// `SIF_PRIVILEGED`: the domain is privileged.
        const PRIVILEGED = 1 << 0;
        /// `SIF_INITDOMAIN`: the initial control domain (dom0).
        const INITDOMAIN = 1 << 1;
        /// `SIF_MULTIBOOT_MOD`: mod_start/mod_len describe multiboot modules.
        const MULTIBOOT_MOD = 1 << 2;
        /// `SIF_MOD_START_PFN`: mod_start is a PFN, not a virtual address.
        const MOD_START_PFN = 1 << 3;
        /// `SIF_VIRT_P2M_4TOOLS`: the p2m is virtually mapped for the tools.
        const VIRT_P2M_4TOOLS = 1 << 4;
        /// `SIF_PM_MASK`: one byte of power-management options for dom0.
        const PM_MASK = 0xff << 8;
    }
}
/// `SIF_*` names (lower case) of the flags set, then the PM options byte if not 0.
impl core::fmt::Display for SifFlags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let pm = (*self & Self::PM_MASK).bits() >> 8;
        let rest = self.difference(Self::PM_MASK);
        if pm == 0 || !rest.is_empty() {
            super::write_flag_names(f, &rest)?;
        }
        match (pm, rest.is_empty()) {
            (0, _) => Ok(()),
            (pm, true) => write!(f, "pm options {pm:#x}"),
            (pm, false) => write!(f, " pm options {pm:#x}"),
        }
    }
}

/// The magic prefix every 64-bit x86 PV start_info carries.
pub const MAGIC_PREFIX: &[u8] = b"xen-3.0-x86_64";

/// The start_info page, x86_64 layout (1168 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StartInfo {
    pub magic: [u8; 32],
    pub nr_pages: u64,
    /// MACHINE address of the shared info page.
    pub shared_info: u64,
    pub flags: u32,
    pub _pad0: u32,
    /// MACHINE frame of the xenstore ring page.
    pub store_mfn: u64,
    pub store_evtchn: u32,
    pub _pad1: u32,
    /// domU: console ring MACHINE frame; dom0: info_off | info_size << 32.
    pub console_mfn: u64,
    pub console_evtchn: u32,
    pub _pad2: u32,
    /// VIRTUAL address of the top-level page table.
    pub pt_base: u64,
    pub nr_pt_frames: u64,
    /// VIRTUAL address of the p2m list (pfn -> mfn).
    pub mfn_list: u64,
    pub mod_start: u64,
    pub mod_len: u64,
    pub cmd_line: [u8; MAX_GUEST_CMDLINE],
    pub first_p2m_pfn: u64,
    pub nr_p2m_frames: u64,
}
crate::assert_layout!(StartInfo, 1168;
    nr_pages => 32, shared_info => 40, flags => 48, store_mfn => 56, store_evtchn => 64,
    console_mfn => 72, console_evtchn => 80, pt_base => 88, nr_pt_frames => 96,
    mfn_list => 104, mod_start => 112, mod_len => 120, cmd_line => 128,
    first_p2m_pfn => 1152, nr_p2m_frames => 1160);

/// Why a start_info cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartInfoError {
    /// The magic does not start with `xen-3.0-x86_64`.
    BadMagic,
    /// `nr_pages` is zero or absurd.
    BadNrPages(u64),
}

impl core::fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartInfoError::BadMagic => f.write_str("magic does not start with xen-3.0-x86_64"),
            StartInfoError::BadNrPages(n) => write!(f, "nr_pages {n} (0 or over 2^36)"),
        }
    }
}

impl StartInfo {
    /// The magic as text, up to its NUL.
    pub fn magic_str(&self) -> &str {
        c_str(&self.magic)
    }

    /// Check what must hold before anything else is trusted.
    pub fn validate(&self) -> Result<(), StartInfoError> {
        if !self.magic.starts_with(MAGIC_PREFIX) {
            return Err(StartInfoError::BadMagic);
        }
        // 2^36 pages = 256 TiB: anything above is not a real domain.
        if self.nr_pages == 0 || self.nr_pages > 1 << 36 {
            return Err(StartInfoError::BadNrPages(self.nr_pages));
        }
        Ok(())
    }

    /// True when booted as the initial domain.
    pub fn is_dom0(&self) -> bool {
        SifFlags::from_bits_retain(self.flags).contains(SifFlags::INITDOMAIN)
    }

    /// The command line, up to its NUL (invalid UTF-8 yields the valid prefix).
    pub fn cmdline(&self) -> &str {
        c_str(&self.cmd_line)
    }
}

/// The text of a NUL-terminated byte buffer, cut at the first invalid UTF-8 byte.
pub fn c_str(buf: &[u8]) -> &str {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match core::str::from_utf8(&buf[..end]) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> StartInfo {
        StartInfo {
            magic: [0; 32],
            nr_pages: 1024,
            shared_info: 0,
            flags: 0,
            _pad0: 0,
            store_mfn: 0,
            store_evtchn: 0,
            _pad1: 0,
            console_mfn: 0,
            console_evtchn: 0,
            _pad2: 0,
            pt_base: 0,
            nr_pt_frames: 0,
            mfn_list: 0,
            mod_start: 0,
            mod_len: 0,
            cmd_line: [0; MAX_GUEST_CMDLINE],
            first_p2m_pfn: 0,
            nr_p2m_frames: 0,
        }
    }

    #[test]
    fn magic_is_checked() {
        let mut si = blank();
        assert_eq!(si.validate(), Err(StartInfoError::BadMagic));
        si.magic[..14].copy_from_slice(b"xen-3.0-x86_64");
        assert_eq!(si.validate(), Ok(()));
        assert_eq!(si.magic_str(), "xen-3.0-x86_64");
        si.magic[..14].copy_from_slice(b"xen-3.0-x86_32");
        assert_eq!(si.validate(), Err(StartInfoError::BadMagic));
    }

    #[test]
    fn nr_pages_is_checked() {
        let mut si = blank();
        si.magic[..14].copy_from_slice(MAGIC_PREFIX);
        si.nr_pages = 0;
        assert_eq!(si.validate(), Err(StartInfoError::BadNrPages(0)));
    }

    #[test]
    fn cmdline_and_flags() {
        let mut si = blank();
        si.cmd_line[..12].copy_from_slice(b"probes=timer");
        assert_eq!(si.cmdline(), "probes=timer");
        si.flags = (SifFlags::INITDOMAIN | SifFlags::PRIVILEGED).bits();
        assert!(si.is_dom0());
        let named = SifFlags::from_bits_retain(si.flags | 3 << 8 | 1 << 20).to_string();
        assert_eq!(
            named,
            "privileged initdomain unknown 0x100000 pm options 0x3"
        );
        assert_eq!(
            SifFlags::from_bits_retain(1 << 8).to_string(),
            "pm options 0x1"
        );
        assert_eq!(SifFlags::empty().to_string(), "none");
        let gtf = super::super::grant_table::GrantFlags::from_bits_retain(0x19).to_string();
        assert_eq!(gtf, "permit_access reading writing");
    }

    #[test]
    fn c_str_cuts_at_nul_and_bad_utf8() {
        assert_eq!(c_str(b"abc\0def"), "abc");
        assert_eq!(c_str(b"abc"), "abc");
        assert_eq!(c_str(&[b'o', b'k', 0xff, b'x']), "ok");
    }
}
