//! A minimal JSON object writer for `@xp` records (no alloc, any `fmt::Write` sink).

use core::fmt::{self, Write};

/// Write `s` as a JSON string literal, escaping quotes, backslashes and control characters.
pub fn write_str<W: Write>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    write_escaped(w, s)?;
    w.write_char('"')
}

/// Write the inside of a JSON string literal (no quotes).
fn write_escaped<W: Write + ?Sized>(w: &mut W, s: &str) -> fmt::Result {
    for c in s.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            '\t' => w.write_str("\\t")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(w, "\\u{:04x}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    Ok(())
}

/// Builds one JSON object field by field; call [`Obj::end`] to close it.
///
/// Errors from the sink are remembered and returned by `end`, so call
/// chains stay short.
pub struct Obj<'w, W: Write> {
    w: &'w mut W,
    first: bool,
    res: fmt::Result,
}

impl<'w, W: Write> Obj<'w, W> {
    /// Start an object (writes `{`).
    pub fn new(w: &'w mut W) -> Self {
        let res = w.write_char('{');
        Obj {
            w,
            first: true,
            res,
        }
    }

    fn key(&mut self, k: &str) {
        if self.res.is_err() {
            return;
        }
        let sep = if self.first { "" } else { "," };
        self.first = false;
        self.res = self
            .w
            .write_str(sep)
            .and_then(|_| write_str(self.w, k))
            .and_then(|_| self.w.write_char(':'));
    }

    fn then(mut self, k: &str, f: impl FnOnce(&mut W) -> fmt::Result) -> Self {
        self.key(k);
        if self.res.is_ok() {
            self.res = f(self.w);
        }
        self
    }

    /// A string field.
    pub fn str(self, k: &str, v: &str) -> Self {
        self.then(k, |w| write_str(w, v))
    }
    /// An unsigned integer field.
    pub fn u64(self, k: &str, v: u64) -> Self {
        self.then(k, |w| write!(w, "{v}"))
    }
    /// A signed integer field.
    pub fn i64(self, k: &str, v: i64) -> Self {
        self.then(k, |w| write!(w, "{v}"))
    }
    /// A boolean field.
    pub fn bool(self, k: &str, v: bool) -> Self {
        self.then(k, |w| write!(w, "{v}"))
    }
    /// A string field whose value is produced by `Display` (escaped like any string).
    pub fn display(self, k: &str, v: impl fmt::Display) -> Self {
        self.then(k, |w| {
            w.write_char('"')?;
            write!(Escaper(w), "{v}")?;
            w.write_char('"')
        })
    }
    /// A field whose value is already valid JSON (written verbatim).
    pub fn raw(self, k: &str, json: impl FnOnce(&mut W) -> fmt::Result) -> Self {
        self.then(k, json)
    }
    /// Close the object (writes `}`) and report any sink error.
    pub fn end(self) -> fmt::Result {
        self.res.and_then(|_| self.w.write_char('}'))
    }
}

/// Escapes everything written through it as the inside of a JSON string.
struct Escaper<'a, W: Write>(&'a mut W);
impl<W: Write> Write for Escaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(f: impl FnOnce(Obj<'_, String>) -> Obj<'_, String>) -> String {
        let mut s = String::new();
        f(Obj::new(&mut s)).end().unwrap();
        s
    }

    #[test]
    fn fields_and_escapes() {
        let s = obj(|o| {
            o.str("kind", "check")
                .str("msg", "a \"q\" \\ \n\u{1}")
                .u64("n", 7)
                .i64("e", -22)
                .bool("ok", true)
                .display("d", format_args!("x{}\"", 1))
        });
        assert_eq!(
            s,
            r#"{"kind":"check","msg":"a \"q\" \\ \n\u0001","n":7,"e":-22,"ok":true,"d":"x1\""}"#
        );
    }

    #[test]
    fn empty_object() {
        assert_eq!(obj(|o| o), "{}");
    }
}
