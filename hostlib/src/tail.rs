//! Reading a growing log line by line (a xenconsoled guest log, an `xl console` capture being
//! written by `tee`): complete lines only, a cut last line waits for its end, a log that
//! shrinks (rotated, recreated) is read again from the top.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// What one poll found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A complete line: 1-based number, text (undecodable bytes replaced), whether it was
    /// valid UTF-8.
    Line(usize, String, bool),
    /// The file is shorter than what was read: reading again from the top.
    Shrank,
}

/// A followed file.
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    pos: u64,
    lineno: usize,
    partial: Vec<u8>,
}

impl Tail {
    pub fn new(path: &Path) -> Self {
        Tail {
            path: path.to_path_buf(),
            pos: 0,
            lineno: 0,
            partial: Vec::new(),
        }
    }

    /// Lines appended since the last poll; `Ok(None)` while the file does not exist.
    pub fn poll(&mut self) -> std::io::Result<Option<Vec<Event>>> {
        let mut f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut events = Vec::new();
        if f.metadata()?.len() < self.pos {
            events.push(Event::Shrank);
            (self.pos, self.lineno) = (0, 0);
            self.partial.clear();
        }
        f.seek(SeekFrom::Start(self.pos))?;
        let mut buf = Vec::new();
        self.pos += f.read_to_end(&mut buf)? as u64;
        self.partial.extend_from_slice(&buf);
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            self.lineno += 1;
            let bytes = &line[..line.len() - 1];
            let valid = std::str::from_utf8(bytes).is_ok();
            let text = String::from_utf8_lossy(bytes).into_owned();
            events.push(Event::Line(self.lineno, text, valid));
        }
        Ok(Some(events))
    }

    /// Bytes of a last line that has no newline yet.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(ev: Vec<Event>) -> Vec<String> {
        ev.into_iter()
            .map(|e| match e {
                Event::Line(n, t, ok) => format!("{n}:{t}:{ok}"),
                Event::Shrank => "shrank".into(),
            })
            .collect()
    }

    #[test]
    fn complete_lines_cut_lines_and_rotation() {
        let dir = std::env::temp_dir().join(format!("xp-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("log");
        let mut t = Tail::new(&p);
        assert_eq!(t.poll().unwrap(), None);
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(b"one\ntw").unwrap();
        assert_eq!(lines(t.poll().unwrap().unwrap()), ["1:one:true"]);
        assert_eq!(t.pending(), 2);
        f.write_all(b"o\xff\n").unwrap();
        assert_eq!(lines(t.poll().unwrap().unwrap()), ["2:two\u{fffd}:false"]);
        assert!(t.poll().unwrap().unwrap().is_empty());
        std::fs::write(&p, b"new\n").unwrap();
        assert_eq!(lines(t.poll().unwrap().unwrap()), ["shrank", "1:new:true"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
