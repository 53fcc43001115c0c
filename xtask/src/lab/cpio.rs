//! A minimal writer (and, for tests, reader) of the cpio "newc" format that the Linux kernel
//! unpacks as an initramfs (see the kernel's Documentation/driver-api/early-userspace/
//! buffer-format.rst). Entries are written uncompressed; the archive is closed by `TRAILER!!!`.
//!
//! An archive may be built in two halves: a cached prefix of entries (no trailer) and a per-run
//! suffix appended to it. Each half gets its own inode range so that no two entries share one.

use std::io::{self, Write};

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const TRAILER: &str = "TRAILER!!!";

/// Streams newc entries into any writer.
pub struct CpioWriter<W: Write> {
    out: W,
    next_ino: u32,
    written: u64,
    rdev: (u32, u32),
}

impl<W: Write> CpioWriter<W> {
    /// `first_ino` lets a suffix archive avoid the inode numbers of a cached prefix.
    pub fn new(out: W, first_ino: u32) -> Self {
        CpioWriter {
            out,
            next_ino: first_ino,
            written: 0,
            rdev: (0, 0),
        }
    }

    pub fn dir(&mut self, path: &str) -> io::Result<()> {
        self.entry(path, S_IFDIR | 0o755, 2, b"")
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.entry(path, S_IFREG | (mode & 0o7777), 1, data)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        self.entry(path, S_IFLNK | 0o777, 1, target.as_bytes())
    }

    /// A character device node (e.g. /dev/console, 5:1, for init's first stdio).
    pub fn chardev(&mut self, path: &str, major: u32, minor: u32) -> io::Result<()> {
        self.rdev = (major, minor);
        let r = self.entry(path, S_IFCHR | 0o600, 1, b"");
        self.rdev = (0, 0);
        r
    }

    /// Writes the trailer and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.header(TRAILER, 0, 0, 0, 0)?;
        self.name_and_pad(TRAILER)?;
        Ok(self.out)
    }

    /// Returns the writer without a trailer (for a cached prefix).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, data: &[u8]) -> io::Result<()> {
        let name = path.trim_start_matches('/');
        let ino = self.next_ino;
        self.next_ino += 1;
        self.header(name, ino, mode, nlink, data.len())?;
        self.name_and_pad(name)?;
        self.out.write_all(data)?;
        self.written += data.len() as u64;
        self.pad()
    }

    fn header(
        &mut self,
        name: &str,
        ino: u32,
        mode: u32,
        nlink: u32,
        size: usize,
    ) -> io::Result<()> {
        let size = u32::try_from(size).map_err(|_| io::Error::other("cpio entry over 4 GiB"))?;
        let namesize = name.len() as u32 + 1;
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        let (rmaj, rmin) = self.rdev;
        let fields = [
            ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, namesize, 0,
        ];
        let mut h = String::with_capacity(110);
        h.push_str("070701");
        for f in fields {
            h.push_str(&format!("{f:08x}"));
        }
        self.out.write_all(h.as_bytes())?;
        self.written += h.len() as u64;
        Ok(())
    }

    fn name_and_pad(&mut self, name: &str) -> io::Result<()> {
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&[0])?;
        self.written += name.len() as u64 + 1;
        self.pad()
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.out.write_all(&[0u8; 3][..n])?;
        self.written += n as u64;
        Ok(())
    }
}

/// One parsed entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub mode: u32,
    pub ino: u32,
    pub data: Vec<u8>,
}

/// Parses a newc archive up to its trailer.
pub fn parse(mut buf: &[u8]) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut consumed = 0usize;
    loop {
        if buf.len() < 110 || &buf[..6] != b"070701" {
            return Err(format!("bad header at offset {consumed}"));
        }
        let field = |i: usize| {
            let s = std::str::from_utf8(&buf[6 + 8 * i..14 + 8 * i]).map_err(|e| e.to_string())?;
            u32::from_str_radix(s, 16).map_err(|e| e.to_string())
        };
        let (ino, mode, size, namesize) = (
            field(0)?,
            field(1)?,
            field(6)? as usize,
            field(11)? as usize,
        );
        let name_end = 110 + namesize;
        let data_start = align4(consumed + name_end) - consumed;
        let data_end = data_start + size;
        if buf.len() < data_end {
            return Err("truncated entry".into());
        }
        let name = String::from_utf8_lossy(&buf[110..name_end - 1]).into_owned();
        if name == TRAILER {
            return Ok(out);
        }
        out.push(Entry {
            name,
            mode,
            ino,
            data: buf[data_start..data_end].to_vec(),
        });
        let next = align4(consumed + data_end) - consumed;
        buf = &buf[next.min(buf.len())..];
        consumed += next;
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = CpioWriter::new(Vec::new(), 1);
        w.dir("/etc").unwrap();
        w.file("/etc/a", 0o644, b"hello").unwrap();
        w.symlink("bin/sh", "busybox").unwrap();
        w.file("e", 0o755, b"").unwrap();
        w.chardev("dev/console", 5, 1).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let e = parse(&bytes).unwrap();
        let names: Vec<_> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["etc", "etc/a", "bin/sh", "e", "dev/console"]);
        assert_eq!(e[4].mode, 0o020600);
        assert_eq!(e[0].mode, 0o040755);
        assert_eq!(e[1].data, b"hello");
        assert_eq!(e[1].mode, 0o100644);
        assert_eq!(e[2].mode, 0o120777);
        assert_eq!(e[2].data, b"busybox");
        assert_eq!(e.iter().map(|e| e.ino).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn header_layout_is_newc() {
        let mut w = CpioWriter::new(Vec::new(), 7);
        w.file("ab", 0o600, b"xyz").unwrap();
        let b = w.into_inner();
        let hdr = std::str::from_utf8(&b[..110]).unwrap();
        assert_eq!(&hdr[..6], "070701");
        assert_eq!(&hdr[6..14], "00000007"); // ino
        assert_eq!(&hdr[14..22], "00008180"); // mode 0100600
        assert_eq!(&hdr[54..62], "00000003"); // filesize
        assert_eq!(&hdr[94..102], "00000003"); // namesize incl. NUL
                                               // 110 + 3 (name) = 113 -> padded to 116, then 3 data bytes padded to 120.
        assert_eq!(b.len(), 120);
        assert_eq!(&b[110..113], b"ab\0");
        assert_eq!(&b[116..119], b"xyz");
    }

    #[test]
    fn prefix_and_suffix_concatenate() {
        let mut a = CpioWriter::new(Vec::new(), 1);
        a.file("one", 0o644, b"1").unwrap();
        let mut bytes = a.into_inner();
        let mut b = CpioWriter::new(Vec::new(), 1000);
        b.file("two", 0o644, b"22").unwrap();
        bytes.extend(b.finish().unwrap());
        let e = parse(&bytes).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[1].name.as_str(), e[1].ino), ("two", 1000));
    }
}
