//! Reassembling messages from the reply byte stream. A message may arrive
//! split anywhere, over any number of ring reads; [`Reassembler`] collects
//! it into a caller-provided [`MSG_MAX`]-byte buffer and hands out each
//! complete [`Message`] once.
//!
//! Errors are sticky: after [`ReadError::LenTooLarge`] or a ring error the
//! byte stream has no trustworthy message boundary any more, so every later
//! call returns the same error until [`Reassembler::reset`] (e.g. after a
//! ring reconnection, which restarts the stream at a packet boundary).
//! A message of unknown type is framed like any other and is not an error
//! here; it is reported when routed (see `pending`).

use super::ring::{read_available, RingError, RingPage};
use super::wire::{Header, Message, HEADER_LEN, MSG_MAX, XENSTORE_PAYLOAD_MAX};

/// Why the reply stream cannot be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReadError {
    /// A header announced `len` payload bytes, over the 4096 limit.
    LenTooLarge { len: u32 },
    /// The ring's indexes are out of range.
    Ring(RingError),
    /// The stream ended (see [`Reassembler::finish`]) inside a message that
    /// needed `need` bytes of which `have` had arrived.
    Truncated { have: usize, need: usize },
}

/// Incremental message reassembly over a caller-provided buffer.
pub struct Reassembler<'b> {
    buf: &'b mut [u8; MSG_MAX],
    /// Bytes of the current message collected so far.
    filled: usize,
    /// The current message's header, once its 16 bytes are in.
    header: Option<Header>,
    /// The message in `buf` was handed out; the next byte starts a new one.
    done: bool,
    broken: Option<ReadError>,
}

impl<'b> Reassembler<'b> {
    pub fn new(buf: &'b mut [u8; MSG_MAX]) -> Self {
        Self {
            buf,
            filled: 0,
            header: None,
            done: false,
            broken: None,
        }
    }

    /// Forgets any partial message and any error.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.header = None;
        self.done = false;
        self.broken = None;
    }

    /// The sticky error, if the stream is broken.
    pub fn broken(&self) -> Option<ReadError> {
        self.broken
    }

    /// Bytes of an unfinished message held, 0 between messages.
    pub fn partial_len(&self) -> usize {
        if self.done {
            0
        } else {
            self.filled
        }
    }

    /// Feeds bytes from the stream. Returns how many were used and, if they
    /// completed a message, that message; call again with the rest.
    pub fn push(&mut self, input: &[u8]) -> Result<(usize, Option<Message<'_>>), ReadError> {
        self.check()?;
        let mut used = 0;
        loop {
            let want = self.want();
            let k = want.len().min(input.len() - used);
            want[..k].copy_from_slice(&input[used..used + k]);
            used += k;
            if let Some(header) = self.advance(k)? {
                return Ok((used, Some(self.message(header))));
            }
            if used == input.len() {
                return Ok((used, None));
            }
        }
    }

    /// Reads from the reply ring only as many bytes as the current message
    /// still needs, so later messages stay in the ring. Returns the message
    /// once complete, `None` if the ring ran dry first.
    pub fn fill_from<P: RingPage + ?Sized>(
        &mut self,
        page: &P,
    ) -> Result<Option<Message<'_>>, ReadError> {
        self.check()?;
        loop {
            let n = match read_available(page, self.want()) {
                Ok(n) => n,
                Err(e) => return Err(self.fail(ReadError::Ring(e))),
            };
            if n == 0 {
                return Ok(None);
            }
            if let Some(header) = self.advance(n)? {
                return Ok(Some(self.message(header)));
            }
        }
    }

    /// Call when the stream has ended: an error if it ended mid-message or
    /// is broken.
    pub fn finish(&self) -> Result<(), ReadError> {
        self.check()?;
        match self.partial_len() {
            0 => Ok(()),
            have => Err(ReadError::Truncated {
                have,
                need: self.need(),
            }),
        }
    }

    fn check(&self) -> Result<(), ReadError> {
        self.broken.map_or(Ok(()), Err)
    }

    fn fail(&mut self, e: ReadError) -> ReadError {
        self.broken = Some(e);
        e
    }

    /// Length of the current message as far as known.
    fn need(&self) -> usize {
        HEADER_LEN + self.header.map_or(0, |h| h.len as usize)
    }

    /// The part of the buffer the current message still needs; never empty.
    fn want(&mut self) -> &mut [u8] {
        if self.done {
            self.filled = 0;
            self.header = None;
            self.done = false;
        }
        let need = self.need();
        &mut self.buf[self.filled..need]
    }

    /// Accounts for `n` new bytes; the header once the message is complete.
    fn advance(&mut self, n: usize) -> Result<Option<Header>, ReadError> {
        self.filled += n;
        if self.header.is_none() && self.filled == HEADER_LEN {
            let mut head = [0u8; HEADER_LEN];
            head.copy_from_slice(&self.buf[..HEADER_LEN]);
            let h = Header::from_bytes(&head);
            if h.len as usize > XENSTORE_PAYLOAD_MAX {
                return Err(self.fail(ReadError::LenTooLarge { len: h.len }));
            }
            self.header = Some(h);
        }
        self.done = self.header.is_some() && self.filled == self.need();
        Ok(self.header.filter(|_| self.done))
    }

    fn message(&self, header: Header) -> Message<'_> {
        Message {
            header,
            payload: &self.buf[HEADER_LEN..self.filled],
        }
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
