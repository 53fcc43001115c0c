//! Just enough ELF64 (little-endian) and bzImage parsing for provisioning: the DT_NEEDED list of
//! a dynamic binary, the compressed payload of a Linux bzImage, and a compacted copy of the
//! decompressed vmlinux (trailing zero bytes of each PT_LOAD segment become bss, section headers
//! are dropped: Xen's loader only reads program headers and PT_NOTE).

use anyhow::{bail, ensure, Context, Result};

fn u16_at(b: &[u8], off: usize) -> Result<u16> {
    let s = b.get(off..off + 2).context("ELF truncated")?;
    Ok(u16::from_le_bytes(s.try_into().unwrap()))
}
fn u32_at(b: &[u8], off: usize) -> Result<u32> {
    let s = b.get(off..off + 4).context("ELF truncated")?;
    Ok(u32::from_le_bytes(s.try_into().unwrap()))
}
fn u64_at(b: &[u8], off: usize) -> Result<u64> {
    let s = b.get(off..off + 8).context("ELF truncated")?;
    Ok(u64::from_le_bytes(s.try_into().unwrap()))
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;

#[derive(Clone, Copy, Debug)]
struct Phdr {
    at: usize, // offset of this header in the file
    ty: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

fn phdrs(b: &[u8]) -> Result<Vec<Phdr>> {
    ensure!(b.len() >= 64 && &b[..4] == b"\x7fELF", "not an ELF file");
    ensure!(b[4] == 2 && b[5] == 1, "not a little-endian ELF64 file");
    let (phoff, phentsize, phnum) = (
        u64_at(b, 32)? as usize,
        u16_at(b, 54)? as usize,
        u16_at(b, 56)?,
    );
    (0..phnum as usize)
        .map(|i| {
            let at = phoff + i * phentsize;
            Ok(Phdr {
                at,
                ty: u32_at(b, at)?,
                offset: u64_at(b, at + 8)?,
                vaddr: u64_at(b, at + 16)?,
                filesz: u64_at(b, at + 32)?,
            })
        })
        .collect()
}

/// Maps a virtual address to a file offset through the PT_LOAD segments.
fn vaddr_to_offset(ph: &[Phdr], vaddr: u64) -> Option<usize> {
    ph.iter()
        .filter(|p| p.ty == PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz)
        .map(|p| (vaddr - p.vaddr + p.offset) as usize)
        .next()
}

const PT_NOTE: u32 = 4;

/// Whether an ELF64 file carries a PT_NOTE with owner "Xen" (a PV kernel's ELF notes).
pub fn has_xen_notes(b: &[u8]) -> bool {
    let Ok(ph) = phdrs(b) else {
        return false;
    };
    ph.iter()
        .filter(|p| p.ty == PT_NOTE)
        .any(|p| notes_named(b, p, b"Xen\0"))
}

fn notes_named(b: &[u8], p: &Phdr, name: &[u8]) -> bool {
    let (mut off, end) = (p.offset as usize, (p.offset + p.filesz) as usize);
    while off + 12 <= end {
        let (Ok(namesz), Ok(descsz)) = (u32_at(b, off), u32_at(b, off + 4)) else {
            return false;
        };
        let n = b.get(off + 12..off + 12 + namesz as usize);
        if n == Some(name) {
            return true;
        }
        off += 12 + (namesz as usize).next_multiple_of(4) + (descsz as usize).next_multiple_of(4);
    }
    false
}

/// The DT_NEEDED sonames of a dynamically linked ELF64 file (empty for a static one).
pub fn needed(b: &[u8]) -> Result<Vec<String>> {
    let ph = phdrs(b)?;
    let Some(dynamic) = ph.iter().find(|p| p.ty == PT_DYNAMIC) else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::new();
    let mut off = dynamic.offset as usize;
    loop {
        let (tag, val) = (u64_at(b, off)?, u64_at(b, off + 8)?);
        if tag == 0 {
            break;
        }
        entries.push((tag, val));
        off += 16;
    }
    let strtab = entries
        .iter()
        .find(|e| e.0 == DT_STRTAB)
        .context("no DT_STRTAB")?
        .1;
    let strtab = vaddr_to_offset(&ph, strtab).context("DT_STRTAB outside PT_LOAD")?;
    let names = entries.iter().filter(|e| e.0 == DT_NEEDED).map(|e| {
        let s = b
            .get(strtab + e.1 as usize..)
            .context("DT_NEEDED out of range")?;
        let end = s
            .iter()
            .position(|&c| c == 0)
            .context("unterminated string")?;
        Ok(String::from_utf8_lossy(&s[..end]).into_owned())
    });
    names.collect()
}

/// Compression of a bzImage payload, with the host command that decompresses it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Compression {
    Gzip,
    Xz,
    Zstd,
}

impl Compression {
    pub fn command(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Compression::Gzip => ("gzip", &["-dc"]),
            Compression::Xz => ("xz", &["-dc", "--single-stream"]),
            Compression::Zstd => ("zstd", &["-dcq"]),
        }
    }
}

/// The compressed kernel inside a bzImage (boot protocol >= 2.08: payload_offset/length).
pub fn bzimage_payload(b: &[u8]) -> Result<(Compression, &[u8])> {
    ensure!(
        b.len() > 0x250 && &b[0x202..0x206] == b"HdrS",
        "not a Linux bzImage"
    );
    let setup_sects = match b[0x1f1] {
        0 => 4,
        n => n as usize,
    };
    let base = (setup_sects + 1) * 512;
    let (off, len) = (u32_at(b, 0x248)? as usize, u32_at(b, 0x24c)? as usize);
    let p = b
        .get(base + off..base + off + len)
        .context("bzImage payload out of range")?;
    let kind = match p {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => bail!(
            "unsupported bzImage payload compression (magic {:02x?})",
            &p[..4.min(p.len())]
        ),
    };
    // Linux appends the uncompressed size (4 bytes) to the stream; only xz ignores it
    // (--single-stream), gzip and zstd call it trailing garbage.
    let p = match kind {
        Compression::Xz => p,
        _ => &p[..p.len().saturating_sub(4)],
    };
    Ok((kind, p))
}

/// Rewrites an executable ELF64 compactly: each PT_LOAD keeps its bytes up to the last non-zero
/// one (the rest is zero-filled by the loader from p_memsz), PT_NOTE offsets follow their
/// segment, section headers are dropped.
pub fn compact_exec(b: &[u8]) -> Result<Vec<u8>> {
    let ph = phdrs(b)?;
    let hdr_end = ph.iter().map(|p| p.at + 56).max().unwrap_or(64).max(64);
    let mut out = b[..hdr_end].to_vec();
    out[40..48].fill(0); // e_shoff
    out[58..64].fill(0); // e_shentsize, e_shnum, e_shstrndx
    let mut moved: Vec<(Phdr, u64)> = Vec::new(); // (old segment, new offset)
    for p in ph.iter().filter(|p| p.ty == PT_LOAD) {
        let data = b
            .get(p.offset as usize..(p.offset + p.filesz) as usize)
            .context("PT_LOAD out of file")?;
        let keep = data.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
        while !out.len().is_multiple_of(16) {
            out.push(0);
        }
        let new_off = out.len() as u64;
        out.extend_from_slice(&data[..keep]);
        out[p.at + 8..p.at + 16].copy_from_slice(&new_off.to_le_bytes());
        out[p.at + 32..p.at + 40].copy_from_slice(&(keep as u64).to_le_bytes());
        moved.push((*p, new_off));
    }
    for p in ph.iter().filter(|p| p.ty != PT_LOAD && p.filesz > 0) {
        let (seg, new_off) = moved
            .iter()
            .find(|(s, _)| p.offset >= s.offset && p.offset + p.filesz <= s.offset + s.filesz)
            .with_context(|| format!("program header type {} outside every PT_LOAD", p.ty))?;
        let off = new_off + (p.offset - seg.offset);
        ensure!(
            (off + p.filesz) as usize <= out.len(),
            "segment type {} lies in trimmed zeros",
            p.ty
        );
        out[p.at + 8..p.at + 16].copy_from_slice(&off.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake ELF64 with one PT_LOAD at file offset 0x100 and a PT_NOTE inside it.
    fn fake_exec() -> Vec<u8> {
        let mut b = vec![0u8; 0x200];
        b[..4].copy_from_slice(b"\x7fELF");
        (b[4], b[5]) = (2, 1);
        b[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[40..48].copy_from_slice(&0x1f0u64.to_le_bytes()); // e_shoff (bogus, must be cleared)
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&2u16.to_le_bytes());
        let ph = |b: &mut Vec<u8>, at: usize, ty: u32, off: u64, sz: u64| {
            b[at..at + 4].copy_from_slice(&ty.to_le_bytes());
            b[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            b[at + 16..at + 24].copy_from_slice(&(0x1000 + off).to_le_bytes());
            b[at + 32..at + 40].copy_from_slice(&sz.to_le_bytes());
            b[at + 40..at + 48].copy_from_slice(&sz.to_le_bytes());
        };
        ph(&mut b, 64, PT_LOAD, 0x100, 0x100);
        ph(&mut b, 120, 4, 0x110, 0x8);
        b[0x100..0x118].copy_from_slice(&[0xaa; 0x18]);
        b
    }

    #[test]
    fn compact_trims_zero_tail_and_moves_notes() {
        let out = compact_exec(&fake_exec()).unwrap();
        let ph = phdrs(&out).unwrap();
        assert_eq!(u64_at(&out, 40).unwrap(), 0);
        assert_eq!(ph[0].offset, 176);
        assert_eq!(ph[0].filesz, 0x18);
        assert_eq!(u64_at(&out, 64 + 40).unwrap(), 0x100, "memsz kept");
        assert_eq!(ph[1].offset, 176 + 0x10);
        assert_eq!(out.len(), 176 + 0x18);
        assert_eq!(&out[ph[1].offset as usize..][..8], &[0xaa; 8]);
    }

    #[test]
    fn needed_of_static_is_empty_and_garbage_is_error() {
        assert!(needed(&fake_exec()).unwrap().is_empty());
        assert!(needed(
            b"not an elf at all, clearly not, no no no, not at all...................."
        )
        .is_err());
    }

    #[test]
    fn needed_of_host_binary() {
        // Every Linux host that runs cargo has a dynamically linked /bin/sh or ls.
        let b = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let n = needed(&b).unwrap();
        assert!(n.iter().any(|s| s.starts_with("libc.so")), "{n:?}");
    }

    #[test]
    fn bzimage_detection() {
        let mut b = vec![0u8; 0x1000];
        b[0x202..0x206].copy_from_slice(b"HdrS");
        b[0x1f1] = 1; // setup_sects -> protected-mode code at 1024
        b[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        b[0x24c..0x250].copy_from_slice(&8u32.to_le_bytes());
        b[1040..1046].copy_from_slice(&[0xfd, b'7', b'z', b'X', b'Z', 0]);
        let (kind, p) = bzimage_payload(&b).unwrap();
        assert_eq!((kind, p.len()), (Compression::Xz, 8));
        assert!(bzimage_payload(&b[..0x100]).is_err());
    }
}
